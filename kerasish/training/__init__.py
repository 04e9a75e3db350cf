"""The training loop and what feeds it: argument checks, data adapters, loss/metric accumulation, the loop."""
