"""Parameters are read from the notebook, typed, and checked before anything runs."""

import pytest

from paperlib.book.parameters import ParameterError, read_parameters, validate

PARAMS = '''profile: str = "cpu"  # run profile; one of quick, cpu, paper
n_steps: int = 100  # training steps; range 1..1000
lr: float = 0.001  # learning rate; range 1e-6..1
flag: bool = False  # a switch
name: str = "x"  # free text
'''


@pytest.fixture
def declared(tmp_path, write_notebook):
    return read_parameters(write_notebook(tmp_path / "nb.ipynb", PARAMS, "pass"))


def test_types_defaults_ranges_and_choices_are_read(declared):
    assert declared["n_steps"].type_name == "int" and declared["n_steps"].default == 100
    assert (declared["n_steps"].low, declared["n_steps"].high) == (1, 1000)
    assert declared["profile"].choices == ("quick", "cpu", "paper")
    assert declared["lr"].meaning == "learning rate"
    assert declared["flag"].default is False


def test_command_line_strings_are_coerced(declared):
    values = validate(declared, {"n_steps": "20", "lr": "3e-4", "flag": "true", "name": "y"}, "cli")
    assert values == {"n_steps": 20, "lr": 3e-4, "flag": True, "name": "y"}


@pytest.mark.parametrize("values, message", [
    ({"no_such_param": "1"}, "no_such_param"),
    ({"n_steps": "many"}, "n_steps"),
    ({"n_steps": "2.5"}, "n_steps"),
    ({"n_steps": 5000}, "outside the range"),
    ({"lr": 2.0}, "outside the range"),
    ({"profile": "gpu"}, "one of quick, cpu, paper"),
    ({"flag": "maybe"}, "bool"),
    ({"n_steps": 1.5}, "expects int"),
])
def test_bad_values_name_the_parameter(declared, values, message):
    with pytest.raises(ParameterError, match=message):
        validate(declared, values, "cli")


def test_a_line_papermill_cannot_parse_is_an_error_not_a_silent_drop(tmp_path, write_notebook):
    path = write_notebook(tmp_path / "nb.ipynb", 'grid: str = "full"  # it\'s = broken\n', "pass")
    with pytest.raises(ParameterError, match="grid"):
        read_parameters(path)


def test_an_untyped_parameter_is_refused(tmp_path, write_notebook):
    with pytest.raises(ParameterError, match="type"):
        read_parameters(write_notebook(tmp_path / "nb.ipynb", "x = 1\n", "pass"))
