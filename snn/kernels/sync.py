"""Atomic operations and a spin barrier for kernels that several threads run at once.

Numba offers no atomics on the CPU, and ``prange`` pays a thread-pool launch (~5 us) per
parallel loop, which is more than a whole step of a mid-sized network. Kernels that need one
or two synchronisations per time step instead run as ``nogil`` functions on several Python
threads at once, one call per worker, and meet at :func:`barrier` between phases.

The barrier is sense-reversing over ``sync`` (int64, 3 entries: arrival count, sense, abort).
Its arrival is acquire-release and its wait an acquire load, so every plain write a worker
made before the barrier is visible to every worker after it. A waiter spins with the CPU's
pause hint, then yields its core, so that more workers than free cores is slow (~0.1 ms per
barrier) but never stuck; and it gives up when ``sync[2]`` is set (a worker failed before
arriving), which the kernels answer by returning at once.
"""

from __future__ import annotations

import os
import platform

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.extending import intrinsic

_POSIX = os.name == "posix"  # sched_yield; elsewhere a waiter only spins
_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")
SPINS_BEFORE_YIELD = 500  # ~10 us of pause hints: longer than a step's usual imbalance


def _item_pointer(context, builder, array_type, array, index):
    view = context.make_array(array_type)(context, builder, array)
    return cgutils.get_item_pointer(context, builder, array_type, view, [index])


def _pointer_and_item(context, builder, signature, args):
    """For ``(array, index, value)`` arguments: the item's pointer and the value in its type."""
    array_type = signature.args[0]
    pointer = _item_pointer(context, builder, array_type, args[0], args[1])
    return pointer, context.cast(builder, args[2], signature.args[2], array_type.dtype)


@intrinsic
def atomic_load(typingctx, array, index):
    """``array[index]`` read with acquire ordering."""

    def codegen(context, builder, signature, args):
        pointer = _item_pointer(context, builder, signature.args[0], *args)
        return builder.load_atomic(pointer, "acquire", signature.args[0].dtype.bitwidth // 8)

    return array.dtype(array, index), codegen


@intrinsic
def atomic_store(typingctx, array, index, value):
    """``array[index] = value`` with release ordering."""

    def codegen(context, builder, signature, args):
        pointer, item = _pointer_and_item(context, builder, signature, args)
        builder.store_atomic(item, pointer, "release", signature.args[0].dtype.bitwidth // 8)
        return context.get_dummy_value()

    return types.void(array, index, value), codegen


@intrinsic
def atomic_add(typingctx, array, index, value):
    """``array[index] += value`` as one acquire-release read-modify-write; returns the old value."""

    def codegen(context, builder, signature, args):
        pointer, item = _pointer_and_item(context, builder, signature, args)
        return builder.atomic_rmw("add", pointer, item, "acq_rel")

    return array.dtype(array, index, value), codegen


@intrinsic
def _spin_pause(typingctx):
    """The x86 ``pause`` hint (eases the spinning core; nothing elsewhere)."""

    def codegen(context, builder, signature, args):
        if _X86:
            kind = ir.FunctionType(ir.VoidType(), [])
            builder.call(cgutils.get_or_insert_function(builder.module, kind, "llvm.x86.sse2.pause"), [])
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def _yield_core(typingctx):
    """POSIX ``sched_yield()``: lets a descheduled worker run on this core."""

    def codegen(context, builder, signature, args):
        if _POSIX:
            kind = ir.FunctionType(ir.IntType(32), [])
            builder.call(cgutils.get_or_insert_function(builder.module, kind, "sched_yield"), [])
        return context.get_dummy_value()

    return types.void(), codegen


@njit(cache=True, nogil=True)
def first_sense(sync):
    """The sense a worker starts from: the barrier's current one, the same for every worker
    because no barrier can complete before all of them have arrived."""
    return atomic_load(sync, 1)


@njit(cache=True, nogil=True)
def barrier(sync, parties, sense):
    """Wait until ``parties`` workers have arrived; returns the worker's new ``sense`` (start
    from :func:`first_sense`), or -1 when the run was aborted. One party returns at once."""
    sense = 1 - sense
    if atomic_add(sync, 0, 1) == parties - 1:
        atomic_store(sync, 0, 0)
        atomic_store(sync, 1, sense)
        return sense
    spins = 0
    while atomic_load(sync, 1) != sense:
        if atomic_load(sync, 2) != 0:
            return -1
        spins += 1
        if spins < SPINS_BEFORE_YIELD:
            _spin_pause()
        else:
            _yield_core()
    return sense
