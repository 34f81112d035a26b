"""Multi-process training on torch.distributed (gloo, CPU): two processes at batch b each train
the same weights as one process at batch 2b; only rank 0 writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import generator_fixtures  # noqa: E402

from ecgbench.context import RunContext  # noqa: E402
from ecgbench.nn import distributed  # noqa: E402
from ecgbench.nn.distributed import BatchDraws, World  # noqa: E402
from ecgbench.nn.generator_config import BackboneGeneratorConfig  # noqa: E402
from ecgbench.testing.distributed import run_in_processes  # noqa: E402

#: Two blocks, an average of the weights, a checkpoint every 3 steps: every part of the loop.
TINY = dict(n_blocks=2, channels=4, s4_state=8, step_embed_dim=8, step_hidden_dim=8, label_embed_dim=4,
            n_iters=7, lr=1e-2, checkpoint_every=3, sample_batch_size=3, normalise="global_std", ema_decay=0.5)


class Denoiser(generator_fixtures.Denoiser):
    """With a random time per record and stronger noise: a loss with per-record random draws, like
    the real generators."""

    noise_scale = 0.3
    random_time = True


def train(batch_size: int, cache: str, fail_at_call: int | None = None) -> dict[str, np.ndarray]:
    """Fit the denoiser (in whatever process group this process is in); the weights it ends with."""
    torch.set_num_threads(1)
    ctx = RunContext(seed=5, cache_dir=Path(cache), artifacts_dir=Path(cache), quiet=True)
    model = Denoiser(BackboneGeneratorConfig(**TINY, batch_size=batch_size), ctx)
    model.fail_at_call = fail_at_call
    model.fit(generator_fixtures.synthetic_dataset(16))
    written = sorted(p.name for p in Path(cache).rglob("*.safetensors"))
    return {"weights": {k: v.numpy().copy() for k, v in model.net.state_dict().items()},
            "curve": model.ctx.notes["loss_curve"], "written": written, "rank": distributed.world().rank,
            "resumed_from": model.ctx.notes.get("resumed_from_iteration")}


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """Two ranks, 3 records each per step: the configured batch (the global one) is 6."""
    cache = tmp_path_factory.mktemp("ddp")
    return run_in_processes(train, 2, 6, str(cache)), cache


def test_two_processes_at_batch_b_train_the_weights_of_one_at_batch_2b(two_processes, tmp_path):
    (rank0, rank1), _ = two_processes
    single = train(6, str(tmp_path))
    worst = max(float(np.abs(rank0["weights"][k] - v).max()) for k, v in single["weights"].items())
    assert worst < 1e-5, f"max abs weight difference {worst:.3g}"
    assert np.allclose(rank0["curve"], single["curve"], rtol=1e-5)
    for name, value in rank0["weights"].items():  # every rank holds the same weights
        np.testing.assert_array_equal(rank1["weights"][name], value)


def test_only_rank_0_writes_checkpoints(two_processes):
    (rank0, rank1), cache = two_processes
    assert rank0["rank"] == 0 and rank1["rank"] == 1
    assert len(list(cache.rglob("*.safetensors"))) == 1  # the final weights; the resumable file is gone


def test_an_interrupted_multi_process_run_resumes_to_the_same_weights(two_processes, tmp_path):
    (uninterrupted, _), _ = two_processes
    with pytest.raises(RuntimeError, match="simulated interruption"):
        run_in_processes(train, 2, 6, str(tmp_path), 5)  # dies in step 5, after the checkpoint at step 3
    resumed, _ = run_in_processes(train, 2, 6, str(tmp_path))
    assert resumed["resumed_from"] == 3
    for name, value in uninterrupted["weights"].items():
        np.testing.assert_array_equal(resumed["weights"][name], value)
    assert resumed["curve"] == uninterrupted["curve"]


def test_batch_shares_cover_the_global_batch_and_differ_by_at_most_one():
    for total in (2, 5, 6, 7):
        parts = [distributed.share(total, World(rank, 3)) for rank in range(3)]
        assert [p.start for p in parts[1:]] == [p.stop for p in parts[:-1]] and parts[-1].stop == total
        sizes = [p.stop - p.start for p in parts]
        assert max(sizes) - min(sizes) <= 1


def test_a_rank_keeps_its_share_of_the_global_batch_draws():
    def draws(part):
        d = BatchDraws(torch.Generator().manual_seed(1), 5, part)
        return d.randint(9), d.randn(2, 3), d.rand()

    whole = draws(None)
    for part in (slice(0, 2), slice(2, 5)):
        for kept, full in zip(draws(part), whole, strict=True):
            torch.testing.assert_close(kept, full[part])


def test_a_single_process_run_draws_what_torch_draws():
    generator = torch.Generator().manual_seed(4)
    d = BatchDraws(generator, 3)
    t, noise = d.randint(200), d.randn(8, 16)
    reference = torch.Generator().manual_seed(4)
    torch.testing.assert_close(t, torch.randint(200, (3,), generator=reference))
    torch.testing.assert_close(noise, torch.randn((3, 8, 16), generator=reference))


@pytest.mark.parametrize("nproc", ["0", "-2"])
def test_a_number_of_processes_below_one_is_a_usage_error(nproc, fake_cli, capsys):
    from ecgbench import cli

    assert cli.main(["run", "--task", "classify-71-labels", "--plugin", "dummy-clf", "--nproc", nproc]) == cli.EXIT_USAGE
    assert "--nproc" in capsys.readouterr().err


def test_a_batch_smaller_than_the_number_of_processes_is_refused(monkeypatch):
    monkeypatch.setattr(distributed, "world", lambda: World(0, 4, 0, "gloo"))
    with pytest.raises(distributed.ConfigError, match="batch_size 3 .* at least 4"):
        distributed.check_batch(3, "denoiser")


@pytest.fixture
def second_rank(monkeypatch):
    """This process as rank 1 of 2 (the process group itself stubbed: nothing here communicates)."""
    from contextlib import nullcontext

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setattr(distributed, "start", lambda device: World(1, 2, 1, "gloo"))
    monkeypatch.setattr(distributed, "stop", lambda: None)
    monkeypatch.setattr(distributed, "main_first", nullcontext)


def test_a_rank_other_than_0_trains_and_writes_nothing(second_rank, fake_cli, tmp_path, monkeypatch):
    from ecgbench.runner import RunRequest, execute
    from ecgbench.testing.dummies import DummyClassifier

    fitted = []
    original = DummyClassifier.fit
    monkeypatch.setattr(DummyClassifier, "fit", lambda self, train, val: fitted.append(len(train)) or original(self, train, val))
    outcome = execute(RunRequest(task="classify-71-labels", model="dummy-clf", sets=["data.n_records=60"],
                                 results=tmp_path / "results", quiet=True), fake_cli)
    assert outcome is None and fitted and not (tmp_path / "results").exists()


def test_a_failing_rank_other_than_0_raises_instead_of_writing_a_record(second_rank, fake_cli, tmp_path, monkeypatch):
    from ecgbench.runner import RunRequest, execute
    from ecgbench.testing.dummies import DummyClassifier

    def fail(self, train, val):
        raise RuntimeError("out of memory on rank 1")

    monkeypatch.setattr(DummyClassifier, "fit", fail)
    with pytest.raises(RuntimeError, match="rank 1"):
        execute(RunRequest(task="classify-71-labels", model="dummy-clf", sets=["data.n_records=60"],
                           results=tmp_path / "results", quiet=True), fake_cli)
    assert not (tmp_path / "results").exists()
