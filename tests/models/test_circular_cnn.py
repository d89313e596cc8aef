"""Circular CNNs: the layer is PyTorch's circular cross-correlation, the per-frequency product
is the Fourier image of the network, resampling and initialisation behave as documented."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from theorylab.models.circular_cnn import (
    circulant,
    circular_layer,
    cnn_forward,
    cnn_preactivations,
    init_filters,
    product_spectra,
    resample,
)
from theorylab.theory.convolution import product_spectra as numpy_product


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("shared", [True, False])
def test_layer_is_circular_conv1d(shared):
    w = torch.randn(2, 3, 4, 8, generator=_gen(), dtype=torch.float64)
    h = torch.randn(5, 4, 8, generator=_gen(1), dtype=torch.float64)
    hb = h if shared else h.expand(2, -1, -1, -1)
    z = circular_layer(hb, w)
    ref = torch.stack([F.conv1d(F.pad(h, (0, 7), mode="circular"), w[b]) for b in range(2)])
    torch.testing.assert_close(z, ref)
    torch.testing.assert_close(circular_layer(hb, w, "scaled"), ref / 8**0.5)


def test_circulant_norm_and_product_spectra():
    ws = init_filters([2, 3, 2], 6, batch=2, generator=_gen(), gain=1.0)
    t = circulant(ws[0].detach())
    assert float(t.square().sum()) == pytest.approx(6 * float(ws[0].detach().square().sum()))
    x = torch.randn(7, 2, 6, generator=_gen(2), dtype=torch.float64)
    out = cnn_forward([w.detach() for w in ws], x, activation=lambda z: z)  # linear CNN
    a_hat = product_spectra([w.detach() for w in ws])  # (B, n, c_out, c_in)
    np.testing.assert_allclose(a_hat[1].numpy(), numpy_product([w[1].detach().numpy()
                               for w in ws]))  # fmt: skip
    pred = torch.einsum("bmoi,nim->bnom", a_hat, torch.fft.fft(x, dim=-1))
    torch.testing.assert_close(torch.fft.fft(out, dim=-1), pred)


def test_resample_and_downsampled_network():
    h = torch.arange(8.0).reshape(1, 1, 8)
    assert resample(h, 4).tolist() == [[[0.0, 2.0, 4.0, 6.0]]]
    assert resample(resample(h, 4), 8)[0, 0, :4].tolist() == [0.0, 0.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="resample"):
        resample(h, 3)
    ws = init_filters([1, 2, 2, 1], [8, 4, 8], generator=_gen())
    zs = cnn_preactivations(ws, torch.randn(3, 1, 8, generator=_gen(1), dtype=torch.float64))
    assert [z.shape[-1] for z in zs] == [8, 4, 8]
    # constant signals (frequency 0) pass the down/up-sampling unchanged
    const = torch.ones(1, 2, 8)
    assert torch.equal(resample(resample(const, 4), 8), const)


def test_identity_init_and_errors():
    ws = init_filters([3, 6, 3], 8, generator=_gen(), gain=0.0, delta=1.0)
    s = torch.linalg.svdvals(product_spectra([w.detach() for w in ws]))
    torch.testing.assert_close(s, torch.ones_like(s))  # every mode starts at 1
    with pytest.raises(ValueError, match="one tap count"):
        init_filters([1, 2, 1], [8], generator=_gen())
    with pytest.raises(ValueError, match="convention"):
        circular_layer(torch.zeros(1, 1, 4), torch.zeros(1, 1, 1, 4), "unitary")
