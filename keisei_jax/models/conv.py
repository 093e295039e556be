"""A 3x3 'SAME' convolution whose gradient stays fast inside ``lax.scan`` on XLA:CPU.

XLA:CPU runs a forward convolution at full speed anywhere, but inside a while loop (every
``lax.scan``, so the whole compiled training loop) it lowers the two backward convolutions to
naive loops: measured on 2 cores with [512, 9, 9, 32] inputs, the input gradient is 8x slower and
the kernel gradient 22x slower than outside a loop. This custom VJP keeps the forward op and
writes the backward pass as things that stay fast in loops: the input gradient as a forward
convolution with the flipped, transposed kernel, and the kernel gradient as a matmul of 3x3
patches with the output gradient.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

_DIMS = ("NHWC", "HWIO", "NHWC")


def _conv(x: jax.Array, kernel: jax.Array) -> jax.Array:
    return jax.lax.conv_general_dilated(x, kernel, (1, 1), "SAME", dimension_numbers=_DIMS)


def _patches(x: jax.Array) -> jax.Array:
    """[N, H, W, C] -> [N, H, W, 9, C]: the 3x3 neighbourhood of each square, zero padded."""
    h, w = x.shape[1], x.shape[2]
    xp = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    return jnp.stack([xp[:, i : i + h, j : j + w, :] for i in range(3) for j in range(3)], -2)


@jax.custom_vjp
def conv3x3(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """x [N, H, W, Cin], kernel [3, 3, Cin, Cout] -> [N, H, W, Cout], stride 1, zero padding."""
    return _conv(x, kernel)


def _fwd(x, kernel):
    return _conv(x, kernel), (x, kernel)


def _bwd(res, dy):
    x, kernel = res
    dx = _conv(dy, jnp.flip(kernel, (0, 1)).transpose(0, 1, 3, 2))
    dk = jnp.einsum("nhwkc,nhwo->kco", _patches(x), dy).reshape(kernel.shape)
    return dx.astype(x.dtype), dk.astype(kernel.dtype)


conv3x3.defvjp(_fwd, _bwd)


class Conv3x3(nn.Module):
    """Bias-free 3x3 convolution (a norm follows it) on ``conv3x3``."""

    features: int
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kernel = self.param(
            "kernel", nn.initializers.lecun_normal(), (3, 3, x.shape[-1], self.features)
        )
        return conv3x3(x.astype(self.dtype), kernel.astype(self.dtype))
