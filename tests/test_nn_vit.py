"""ViT blocks for 12-lead ECGs (ecgbench.nn.vit)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from ecgbench.nn.vit import (  # noqa: E402
    VIT_SIZES,
    AttentionPooling,
    PatchEmbedding,
    SelfAttention,
    ViTEncoder,
    count_parameters,
    gather_tokens,
    sinusoidal_positions,
)

#: Encoder parameter counts of the published configs (configs/pretrain/ViT{XS,S,B}_*.yaml
#: of kweimann/ECG-JEPA; the paper rounds them to 3.6 M, 14.3 M and 85.2 M).
PUBLISHED_COUNTS = {"xs": 3_600_000, "s": 14_277_888, "b": 85_185_024}
PAPER_ROUNDED = {"xs": 3.6e6, "s": 14.3e6, "b": 85.2e6}


def _encoder(size: str, device: str = "meta") -> ViTEncoder:
    s = VIT_SIZES[size]
    with torch.device(device):
        return ViTEncoder(
            dim=s.dim, depth=s.depth, n_heads=s.n_heads, patch_size=25, n_positions=200
        )


@pytest.mark.parametrize("size", ["xs", "s", "b"])
def test_encoder_parameter_count_matches_the_published_size(size: str) -> None:
    n = count_parameters(_encoder(size))
    assert n == PUBLISHED_COUNTS[size]
    assert abs(n - PAPER_ROUNDED[size]) / PAPER_ROUNDED[size] < 0.005


def test_encoder_has_no_bias_parameters() -> None:
    names = [name for name, _ in _encoder("xs").named_parameters()]
    assert not [n for n in names if n.endswith("bias")]


def test_ten_seconds_make_200_tokens_at_500_and_at_100_hz() -> None:
    for fs, patch in ((500, 25), (100, 5)):
        embed = PatchEmbedding(dim=16, patch_size=patch)
        assert embed(torch.zeros(2, 12, 10 * fs)).shape == (2, 200, 16)


def test_a_patch_token_sees_all_twelve_leads_of_its_window_only() -> None:
    torch.manual_seed(0)
    embed = PatchEmbedding(dim=8, patch_size=5)
    x = torch.randn(1, 12, 50)
    base = embed(x)
    for lead in range(12):
        changed = x.clone()
        changed[0, lead, 12] += 1.0  # sample 12 lies in patch 2
        diff = (embed(changed) - base).abs().sum(dim=-1)[0]
        assert diff[2] > 0
        assert torch.all(diff[torch.arange(10) != 2] == 0)


def test_sinusoidal_positions_follow_the_formula() -> None:
    table = sinusoidal_positions(7, 6)
    assert table.shape == (7, 6)
    for p in range(7):
        for i in range(3):
            angle = p / 10000 ** (2 * i / 6)
            assert table[p, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[p, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)


def test_gather_tokens_selects_per_example() -> None:
    tokens = torch.arange(2 * 4 * 3, dtype=torch.float32).reshape(2, 4, 3)
    out = gather_tokens(tokens, torch.tensor([[3, 0], [1, 2]]))
    assert torch.equal(out[0], tokens[0, [3, 0]])
    assert torch.equal(out[1], tokens[1, [1, 2]])


def test_encoder_drops_registers_unless_asked() -> None:
    enc = ViTEncoder(dim=16, depth=1, n_heads=2, patch_size=5, n_positions=200, n_registers=1)
    x = torch.randn(3, 12, 250)
    assert enc(x).shape == (3, 50, 16)
    assert enc(x, with_registers=True).shape == (3, 51, 16)


def test_encoder_encodes_only_kept_patches_at_their_positions() -> None:
    torch.manual_seed(0)
    enc = ViTEncoder(dim=16, depth=1, n_heads=2, patch_size=5, n_positions=200, n_registers=0)
    x = torch.randn(2, 12, 100)
    keep = torch.tensor([[0, 7, 19], [2, 3, 4]])
    out = enc(x, keep=keep)
    assert out.shape == (2, 3, 16)
    # a one-block encoder on the kept tokens alone equals the same computation done by hand
    tokens = gather_tokens(enc.patch_embed(x) + enc.positions[:20], keep)
    expected = enc.norm(enc.blocks[0](tokens))
    torch.testing.assert_close(out, expected)


def test_encoder_rejects_inputs_longer_than_its_positions() -> None:
    enc = ViTEncoder(dim=16, depth=1, n_heads=2, patch_size=5, n_positions=10)
    with pytest.raises(ValueError, match="positions"):
        enc(torch.zeros(1, 12, 55))


def test_attention_pooling_is_invariant_to_token_order() -> None:
    torch.manual_seed(0)
    pool = AttentionPooling(dim=16, n_heads=4, out_dim=71)
    tokens = torch.randn(2, 9, 16)
    out = pool(tokens)
    assert out.shape == (2, 71)
    torch.testing.assert_close(pool(tokens[:, torch.randperm(9)]), out)


def _attention(drop_key: float) -> SelfAttention:
    torch.manual_seed(0)
    return SelfAttention(16, 2, drop_key=drop_key)


def test_drop_key_changes_nothing_outside_training() -> None:
    x = torch.randn(2, 7, 16)
    plain, dropping = _attention(0.0).eval(), _attention(0.3).eval()
    assert torch.equal(plain(x), dropping(x))


def test_drop_key_thins_the_keys_while_training() -> None:
    x = torch.randn(2, 7, 16)
    plain, dropping = _attention(0.0).train(), _attention(0.3).train()
    torch.manual_seed(1)
    a = dropping(x)
    torch.manual_seed(2)
    b = dropping(x)
    assert not torch.allclose(a, plain(x))
    assert not torch.allclose(a, b)


def test_a_query_whose_keys_are_all_dropped_averages_the_values() -> None:
    """No NaN: the dropped logits all become the same large negative number, so the softmax is uniform."""
    x = torch.randn(2, 7, 16)
    attention = _attention(1.0).train()
    b, n, d = x.shape
    v = attention.qkv(x).reshape(b, n, 3, 2, d // 2)[:, :, 2]
    expected = attention.proj(v.mean(dim=1, keepdim=True).expand(b, n, 2, d // 2).reshape(b, n, d))
    torch.testing.assert_close(attention(x), expected)


def test_drop_key_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="drop_key"):
        SelfAttention(16, 2, drop_key=1.5)
