"""Device set-up: the device and precision `auto` resolves to, torch's threads (owned once per process, changed
only for a benchmark's scope), the page's line, refusals."""

import pytest
import torch
from torch import nn

from paperlib import hardware
from paperlib.hardware import ThreadsOwned, cpu_model, own_threads, scoped_threads
from paperlib.models.recurrent import RecurrentConfig, RecurrentTransformer
from paperlib.training.device import DeviceSetup, configure_device

no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks what happens on a machine without CUDA")


@pytest.fixture
def fresh_process(monkeypatch):
    """A process whose threads nobody owns yet (the test session owns them at one: tests/conftest.py)."""
    monkeypatch.setattr(hardware, "_owned", None)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@no_gpu
def test_auto_is_the_cpu_in_fp32_without_a_gpu():
    setup = configure_device()
    assert setup.device == torch.device("cpu") and setup.precision == "fp32"
    assert setup.description.endswith(", fp32") and cpu_model() in setup.description


def test_explicit_bf16_on_the_cpu_is_kept_and_named():
    setup = configure_device("cpu", precision="bf16")
    assert setup.precision == "bf16" and setup.description.endswith(", bf16 autocast")


@pytest.mark.parametrize("threads, words", [(1, "(1 thread)"), (2, "(2 threads)")])
def test_the_first_setup_owns_the_threads_and_names_them(fresh_process, threads, words):
    setup = configure_device("cpu", threads=threads)
    assert torch.get_num_threads() == setup.threads == threads
    assert words in setup.description
    assert configure_device("cpu", threads=threads).threads == configure_device("cpu").threads == threads
    with pytest.raises(ThreadsOwned, match="scoped_threads"):
        configure_device("cpu", threads=threads + 1)


def test_zero_threads_owns_torchs_setting(fresh_process):
    torch.set_num_threads(1)
    assert configure_device("cpu", threads=0).threads == 1 == torch.get_num_threads()
    with pytest.raises(ThreadsOwned):
        own_threads(2)


def test_a_benchmark_changes_the_threads_for_its_scope_only():
    owned = own_threads(0)
    setup = configure_device("cpu")
    with setup.scoped_threads(owned + 1) as bench:
        assert torch.get_num_threads() == bench.threads == owned + 1 and f"({owned + 1} threads)" in bench.description
        assert (bench.device, bench.precision) == (setup.device, setup.precision)
    assert torch.get_num_threads() == owned
    with pytest.raises(ValueError):
        with scoped_threads(0):
            pass


@no_gpu
def test_cuda_without_a_gpu_is_an_error_naming_it():
    with pytest.raises(ValueError, match="'cuda'"):
        configure_device("cuda")


@pytest.mark.parametrize("kwargs, message", [({"precision": "fp16"}, "precision"), ({"threads": -1}, "threads")])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        configure_device("cpu", **kwargs)


@pytest.mark.parametrize("precision, dtype", [("bf16", torch.bfloat16), ("fp32", torch.float32)])
def test_autocast_runs_matmuls_in_the_chosen_precision(precision, dtype):
    setup = DeviceSetup(torch.device("cpu"), precision, 1, "", False)
    layer = nn.Linear(4, 3)
    with setup.autocast():
        assert layer(torch.randn(2, 4)).dtype == dtype
    assert layer(torch.randn(2, 4)).dtype == torch.float32  # only inside the context


@pytest.mark.slow
def test_compiled_layers_give_the_eager_outputs_and_gradients():
    """`prepare` with compile_layers compiles every block in place; the recurrence over compiled blocks
    matches the eager one (fp32 here; compiling takes a minute of CPU)."""
    cfg = RecurrentConfig(vocab_size=11, n_embd=16, n_head=2, n_positions=200, block=8, alpha="learn", dropout=0.0,
                          head="last", n_out=4)
    torch.manual_seed(0)
    eager = RecurrentTransformer(cfg)
    compiled = RecurrentTransformer(cfg)
    compiled.load_state_dict(eager.state_dict())
    compiled = configure_device("cpu", compile_layers=True).prepare(compiled)
    assert all(hasattr(block, "_compiled_call_impl") and block._compiled_call_impl is not None
               for block in compiled.blocks)
    tokens = torch.randint(11, (3, 100), generator=torch.Generator().manual_seed(1))
    outputs = [model(tokens) for model in (eager, compiled)]
    for out in outputs:
        out.square().sum().backward()
    torch.testing.assert_close(outputs[1], outputs[0], rtol=1e-5, atol=1e-5)
    for (name, p), q in zip(eager.named_parameters(), compiled.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-5, msg=name)
