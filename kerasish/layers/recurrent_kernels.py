"""Sequence kernels of the recurrent layers: pure functions of tensors, no layer state (see recurrent.py).

* ``run_fused``: torch's fused ``torch.lstm`` / ``torch.gru`` / ``torch.rnn_tanh`` / ``torch.rnn_relu`` (cuDNN on a
  GPU, one C++ loop on the CPU) over weights in torch's layout, with Keras 2.3.1's masking semantics for masks
  whose unmasked steps form one block per sample (``one_block_spans``).
* ``run_gru_reset_before``: Keras's default GRU (``reset_after=False``, tanh and sigmoid), which no torch kernel
  computes, as one ``torch.autograd.Function`` (below).
* ``run_steps``: a step function over the time axis with Keras's masking semantics (``K.rnn``), for everything
  the kernels above cannot express.

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


# ---------------------------------------------------------------------------------------------- GRU reset_before
def run_gru_reset_before(projected: torch.Tensor, states: list, recurrent_kernel: torch.Tensor,
                         mask: torch.Tensor | None = None):
    """``(outputs (batch, time, units), [final state])`` of Keras's GRU with ``reset_after=False``, tanh and
    sigmoid, from ``projected`` ``(batch, time, 3 * units)`` (the input projection with its bias, gates in torch's
    order r, z, n), ``states`` ``[h0]`` and ``recurrent_kernel`` ``(3 * units, units)`` (torch's layout and
    order), with Keras's masking (``K.rnn``): the same numbers as ``run_steps`` over ``GRUCell.recurrent_step``."""
    keep = None if mask is None else mask.to(projected.device, torch.bool).t().unsqueeze(-1)  # (time, batch, 1)
    hidden = _GRUResetBefore.apply(projected, states[0], recurrent_kernel, keep)  # (time, batch, units)
    outputs = hidden.transpose(0, 1)
    if keep is not None:
        # K.rnn repeats the previous output at a masked step: zeros until a sample's first unmasked step,
        # then its state (which a masked step carries unchanged)
        seen = keep.cummax(0).values.transpose(0, 1)
        outputs = outputs.masked_fill(~seen, 0.0)
    return outputs, [hidden[-1]]


class _GRUResetBefore(torch.autograd.Function):
    """The recurrence of Keras's default GRU over a whole sequence, with backpropagation through time by hand.

    Per step, from the state ``h`` and the step's projected inputs ``p = (p_r, p_z, p_n)``::

        r, z = sigmoid(p_rz + h @ U_rz.T)       one addmm
        n = tanh(p_n + (r * h) @ U_n.T)         one addmm
        h' = z * h + (1 - z) * n = lerp(n, h, z)

    and a masked step keeps ``h`` (``z`` is stored as 1 there, which makes ``h' = h`` and every gradient through
    the step's gates zero, so the backward pass needs no mask). The autograd loop records about fifteen nodes per
    step and replays them backwards; here the forward pass writes each step's ``r, z``, ``n``, ``r * h`` and ``h'``
    into preallocated ``(time, batch, ...)`` buffers under no autograd, and the backward pass is, per step, two
    small matmuls and four elementwise ops; the gradient of the recurrent kernel is two matmuls over all steps at
    the end, and the input projection's gradient goes back to autograd as one ``(batch, time, 3 * units)`` tensor.

    Backward, with ``dh`` the gradient reaching ``h'`` (from the step's output and from the next step)::

        da_z = dh * (h - n) * z (1 - z)         da_n = dh * (1 - z) (1 - n^2)
        dq = da_n @ U_n                         da_r = dq * h * r (1 - r)
        dh_prev = dh * z + dq * r + (da_r, da_z) @ U_rz

    the factors after ``dh`` and ``dq`` computed a few steps at a time, a handful of ops for several steps.

    Inputs: ``projected (batch, time, 3u)``, ``h0 (batch, u)``, ``recurrent_kernel (3u, u)``, ``keep (time,
    batch, 1)`` bool or None. Output: the states after each step, ``(time, batch, u)``.
    """

    @staticmethod
    def forward(ctx, projected, h0, recurrent_kernel, keep):
        batch, time_steps, _ = projected.shape
        units = h0.shape[1]
        kernel_rz_t, kernel_n_t = recurrent_kernel[:2 * units].t(), recurrent_kernel[2 * units:].t()
        gates_rz = projected.new_empty((time_steps, batch, 2 * units))  # r, z after the sigmoid
        candidates = projected.new_empty((time_steps, batch, units))  # n after the tanh
        reset_states = projected.new_empty((time_steps, batch, units))  # r * h, the candidate's matmul input
        hidden = projected.new_empty((time_steps + 1, batch, units))  # h0, then the state after each step
        hidden[0].copy_(h0)
        dropped = None if keep is None else ~keep
        for t in range(time_steps):
            p, rz, n, q, h = projected[:, t], gates_rz[t], candidates[t], reset_states[t], hidden[t]
            torch.addmm(p[:, :2 * units], h, kernel_rz_t, out=rz).sigmoid_()
            torch.mul(rz[:, :units], h, out=q)
            torch.addmm(p[:, 2 * units:], q, kernel_n_t, out=n).tanh_()
            z = rz[:, units:]
            if dropped is not None:
                z.masked_fill_(dropped[t], 1.0)
            torch.lerp(n, h, z, out=hidden[t + 1])
        ctx.save_for_backward(projected, h0, recurrent_kernel, keep, gates_rz, candidates, reset_states, hidden)
        return hidden[1:]

    @staticmethod
    def backward(ctx, grad_hidden):
        projected, h0, recurrent_kernel, keep, gates_rz, candidates, reset_states, hidden = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True (a gradient penalty, K.gradients): a graph of the grads
            return _differentiable_grads(ctx, grad_hidden, projected, h0, recurrent_kernel, keep)
        time_steps, batch, units = candidates.shape
        kernel_rz, kernel_n = recurrent_kernel[:2 * units], recurrent_kernel[2 * units:]
        r, z = gates_rz[..., :units], gates_rz[..., units:]
        grad_projected = projected.new_empty((batch, time_steps, 3 * units))
        dq = h0.new_empty((batch, units))
        dh = grad_hidden[-1].clone()
        # the factors of a few steps at a time, so that they are still in the cache when the steps read them (over
        # the whole sequence at once they are memory-bound passes: 10-30 % slower at batch 128 measured)
        chunk = max(1, _FACTOR_ELEMENTS // (batch * units))
        zn_factors = h0.new_empty((chunk, batch, 2, units))
        r_factors = h0.new_empty((chunk, batch, units))
        for stop in range(time_steps, 0, -chunk):
            start = max(0, stop - chunk)
            _step_factors(z[start:stop], r[start:stop], candidates[start:stop], reset_states[start:stop],
                          hidden[start + 1:stop + 1], zn_factors, r_factors)
            for t in range(stop - 1, start - 1, -1):
                da = grad_projected[:, t]
                torch.mul(dh.unsqueeze(1), zn_factors[t - start], out=da[:, units:].view(batch, 2, units))
                torch.mm(da[:, 2 * units:], kernel_n, out=dq)
                torch.mul(dq, r_factors[t - start], out=da[:, :units])
                carry = grad_hidden[t - 1] if t > 0 else torch.zeros_like(dh)
                dh = torch.addcmul(carry, dh, z[t]).addcmul_(dq, r[t]).addmm_(da[:, :2 * units], kernel_rz)
        grad_kernel = None
        if ctx.needs_input_grad[2]:
            by_step = grad_projected.transpose(0, 1).reshape(time_steps * batch, 3 * units)
            grad_kernel = torch.cat([by_step[:, :2 * units].t() @ hidden[:-1].reshape(-1, units),
                                     by_step[:, 2 * units:].t() @ reset_states.reshape(-1, units)])
        return grad_projected, dh, grad_kernel, None


_FACTOR_ELEMENTS = 2 ** 16  # per factor buffer (256 KiB in float32)


def _step_factors(z, r, candidates, reset_states, new_states, zn_factors, r_factors) -> None:
    """Into ``zn_factors[:steps]`` ``(steps, batch, 2, units)`` what ``dh`` multiplies into ``(da_z, da_n)``:
    ``(h - n) z (1 - z) = (h' - n)(1 - z)`` and ``(1 - z)(1 - n^2)``, and into ``r_factors[:steps]`` what ``dq``
    multiplies into ``da_r``: ``h r (1 - r) = q (1 - r)`` with ``q = r * h``."""
    steps = z.shape[0]
    one_minus_z = 1 - z
    torch.sub(new_states, candidates, out=zn_factors[:steps, :, 0]).mul_(one_minus_z)
    torch.addcmul(one_minus_z, one_minus_z * candidates, candidates, value=-1, out=zn_factors[:steps, :, 1])
    torch.addcmul(reset_states, reset_states, r, value=-1, out=r_factors[:steps])


def _gru_reset_before_states(projected, h0, recurrent_kernel, keep):
    """The forward pass of ``_GRUResetBefore`` in plain autograd ops (what its backward differentiates when
    asked for a graph of the gradients)."""
    units = h0.shape[1]
    h, hidden = h0, []
    for t in range(projected.shape[1]):
        p = projected[:, t]
        r, z = torch.sigmoid(p[:, :2 * units] + h @ recurrent_kernel[:2 * units].t()).chunk(2, dim=-1)
        n = torch.tanh(p[:, 2 * units:] + (r * h) @ recurrent_kernel[2 * units:].t())
        new = n + z * (h - n)
        h = new if keep is None else torch.where(keep[t], new, h)
        hidden.append(h)
    return torch.stack(hidden)


def _differentiable_grads(ctx, grad_hidden, projected, h0, recurrent_kernel, keep):
    wanted = [x for x, needed in zip((projected, h0, recurrent_kernel), ctx.needs_input_grad) if needed]
    with torch.enable_grad():
        grads = iter(torch.autograd.grad(_gru_reset_before_states(projected, h0, recurrent_kernel, keep), wanted,
                                         grad_hidden, create_graph=True))
    return tuple(next(grads) if needed else None for needed in ctx.needs_input_grad[:3]) + (None,)


__all__ = ["Spans", "one_block_spans", "run_fused", "run_gru_reset_before", "run_steps"]
