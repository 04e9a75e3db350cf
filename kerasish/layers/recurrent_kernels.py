"""Sequence kernels of the recurrent layers: pure functions of tensors, no layer state (see recurrent.py).

* ``run_fused``: torch's fused ``torch.lstm`` / ``torch.gru`` / ``torch.rnn_tanh`` / ``torch.rnn_relu`` (cuDNN on a
  GPU, one C++ loop on the CPU) over weights in torch's layout, with Keras 2.3.1's masking semantics for masks
  whose unmasked steps form one block per sample (``one_block_spans``).
* ``run_steps``: a step function over the time axis with Keras's masking semantics (``K.rnn``), for everything
  the fused kernels cannot express.

Keras's masking (``K.rnn``, tf.keras 2.0 ``backend.rnn``): at a masked step a sample keeps its previous states
and repeats its previous output (zeros before its first unmasked step). For a sample whose unmasked steps are
the block ``[start, start + length)`` that is: zeros before the block, the block's outputs, then the block's last
output repeated; the final states are those after the block (the initial ones for an empty block). So the
fused kernels run each sample's block shifted to time 0 (a gather), packed by length, and the outputs are
gathered back into place.
"""
from __future__ import annotations

import warnings

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from kerasish.backend.control import rnn as backend_rnn

_FUSED = {"lstm": torch.lstm, "gru": torch.gru, "rnn_tanh": torch.rnn_tanh, "rnn_relu": torch.rnn_relu}


class Spans:
    """Each sample's block of unmasked steps: ``starts`` and ``lengths`` ``(batch,)`` on the mask's device, and
    their host copies (the packing needs the lengths on the host)."""

    def __init__(self, starts, lengths, host_starts: list, host_lengths: list):
        self.starts, self.lengths = starts, lengths
        self.host_starts, self.host_lengths = host_starts, host_lengths

    def covers(self, time_steps: int) -> bool:
        """Every step of every sample is unmasked (the mask changes nothing)."""
        return all(length == time_steps for length in self.host_lengths)


def one_block_spans(mask: torch.Tensor) -> Spans | None:
    """``Spans`` of a ``(batch, time)`` mask whose unmasked steps form one block per sample (right padding, left
    padding as ``pad_sequences`` makes by default, or both), else None. Reads ``3 * batch`` integers back to the
    host once per call (a device sync on a GPU, once per sequence, not per step)."""
    mask = mask.bool()
    time_steps = mask.shape[1]
    lengths = mask.sum(1)
    present = lengths > 0
    starts = torch.where(present, mask.int().argmax(1), 0)  # argmax: the first maximum
    ends = torch.where(present, time_steps - mask.flip(1).int().argmax(1), 0)
    one_block = (ends - starts) == lengths
    host = torch.stack([starts, lengths, one_block.long()]).tolist()
    if not all(host[2]):
        return None
    return Spans(starts, lengths, host[0], host[1])


def run_fused(mode: str, x: torch.Tensor, states: list, weights: list, spans: Spans | None = None):
    """``(outputs (batch, time, units), final states)`` of torch's fused ``mode`` kernel over ``x`` ``(batch,
    time, features)`` from ``states`` (each ``(batch, units)``; LSTM: ``[h, c]``). ``weights``: ``[w_ih, w_hh]``
    or ``[w_ih, w_hh, b_ih, b_hh]`` in torch's layout. ``spans``: Keras masking, see the module docstring."""
    if spans is None or spans.covers(x.shape[1]):
        return _fused_call(mode, x, None, states, weights)
    time_steps = x.shape[1]
    steps = torch.arange(time_steps, device=x.device)
    starts, lengths = spans.starts.to(x.device), spans.lengths.to(x.device)
    if any(spans.host_starts):  # left padding: each sample's block moved to time 0
        shift = (starts[:, None] + steps).clamp(max=time_steps - 1)
        x = x.gather(1, shift[..., None].expand(-1, -1, x.shape[2]))
    packed = pack_padded_sequence(x, [max(n, 1) for n in spans.host_lengths], batch_first=True,
                                  enforce_sorted=False)
    sorted_states = [s.index_select(0, packed.sorted_indices) for s in states]
    data, final = _fused_call(mode, packed.data, packed.batch_sizes, sorted_states, weights)
    final = [f.index_select(0, packed.unsorted_indices) for f in final]
    shifted, _ = pad_packed_sequence(PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                                                    packed.unsorted_indices), batch_first=True,
                                     total_length=time_steps)
    empty = lengths == 0  # a fully masked sample keeps its initial states and outputs zeros
    final = [torch.where(empty[:, None], initial, f) for initial, f in zip(states, final)]
    # back into place: step t reads block step t - start, the block's last step after it, zeros before it
    back = torch.minimum((steps - starts[:, None]).clamp(min=0), (lengths - 1).clamp(min=0)[:, None])
    outputs = shifted.gather(1, back[..., None].expand(-1, -1, shifted.shape[2]))
    before = (steps < starts[:, None]) | empty[:, None]
    return outputs.masked_fill(before[..., None], 0.0), final


def _fused_call(mode: str, x, batch_sizes, states: list, weights: list):
    # hx: (layers * directions, batch, units); `train` keeps cuDNN's workspace for a backward pass; batch_first
    hx = [s.unsqueeze(0).contiguous() for s in states]
    hx = tuple(hx) if mode == "lstm" else hx[0]
    args = (weights, len(weights) == 4, 1, 0.0, torch.is_grad_enabled(), False)  # has_biases, layers, dropout, train
    call = _FUSED[mode]
    if not x.is_cuda:
        output, *final = call(x, hx, *args, True) if batch_sizes is None else call(x, batch_sizes, hx, *args)
        return output, [f.squeeze(0) for f in final]
    with warnings.catch_warnings():
        # cuDNN copies weights that are not one flat buffer (what nn.LSTM.flatten_parameters makes) into one at
        # each call: a copy of the weights, small next to a sequence's work; the layers keep Keras's separate
        # weights (get_weights, regularizers, constraints), so torch's warning about it says nothing to act on
        warnings.filterwarnings("ignore", message="RNN module weights are not part of single contiguous chunk")
        output, *final = call(x, hx, *args, True) if batch_sizes is None else call(x, batch_sizes, hx, *args)
    return output, [f.squeeze(0) for f in final]


def run_steps(step, projected: torch.Tensor, states: list, mask: torch.Tensor | None = None):
    """``(outputs (batch, time, units), final states)`` of ``step(projected_t, states) -> (output, new_states)``
    over the time axis of ``projected``, with Keras's masking semantics (``K.rnn``)."""
    _, outputs, final = backend_rnn(step, projected, states, mask=mask)
    return outputs, final


__all__ = ["Spans", "one_block_spans", "run_fused", "run_steps"]
