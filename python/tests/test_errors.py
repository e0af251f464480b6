"""Bad input raises with exactly the message the CLI prints after `error: `."""

from pathlib import Path

import pytest

import pinsynth
from conftest import REPO, run_cli

BAD = sorted((REPO / "tests/data/bad").glob("*.toml"))


def cli_message(stderr):
    assert stderr.startswith("error: "), stderr
    return stderr[len("error: "):].rstrip("\n")


def test_there_are_bad_scenes():
    assert len(BAD) >= 10


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_scene_raises_value_error_with_the_cli_message(path, monkeypatch):
    monkeypatch.chdir(REPO)
    rel = path.relative_to(REPO).as_posix()
    expected = cli_message(path.with_suffix(".stderr").read_text())
    with pytest.raises(ValueError) as e:
        pinsynth.Scene.from_file(rel)
    assert str(e.value) == expected
    with pytest.raises(ValueError) as e:
        pinsynth.Scene.from_toml(path.read_text(), name=rel)
    assert str(e.value) == expected


def test_bad_overrides_give_the_cli_message(pinsynth_bin, monkeypatch):
    monkeypatch.chdir(REPO)
    cases = [
        ({"image.width": -5, "sweep.count": 0, "layout.kind": "hexagonal"},
         ["image.width=-5", "sweep.count=0", "layout.kind=hexagonal"]),
        ({"image..width": 3}, ["image..width=3"]),
        ({"image.width.x": 3}, ["image.width.x=3"]),
        ({"camera.location": [0, 0]}, ["camera.location=[0, 0]"]),
    ]
    for overrides, sets in cases:
        args = [a for s in sets for a in ("--set", s)]
        out = run_cli(pinsynth_bin, "validate", "scenes/default.toml", *args, check=False)
        assert out.returncode == 1, out.stderr
        with pytest.raises(ValueError) as e:
            pinsynth.Scene.from_file("scenes/default.toml", overrides=overrides)
        assert str(e.value) == cli_message(out.stderr), overrides


def test_missing_scene_file_raises_file_not_found_with_the_cli_message(pinsynth_bin, monkeypatch):
    monkeypatch.chdir(REPO)
    out = run_cli(pinsynth_bin, "validate", "scenes/nope.toml", check=False)
    with pytest.raises(FileNotFoundError) as e:
        pinsynth.Scene.from_file("scenes/nope.toml")
    assert str(e.value) == cli_message(out.stderr)


def test_override_values_of_other_types_are_type_errors():
    with pytest.raises(TypeError, match="override image.width: cannot use a object as a scene value"):
        pinsynth.Scene.from_toml("", overrides={"image.width": object()})
    with pytest.raises(TypeError, match="overrides: give a dict"):
        pinsynth.Scene.from_toml("", overrides="image.width=5")


def test_render_refuses_a_non_empty_directory_like_the_cli(pinsynth_bin, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    cli = run_cli(pinsynth_bin, "render", "scenes/default.toml", "--out", out, "--quiet", check=False)
    assert cli.returncode == 1
    scene = pinsynth.Scene.from_file(REPO / "scenes/default.toml", overrides={"sweep.count": 2})
    with pytest.raises(FileExistsError) as e:
        scene.render(out)
    assert str(e.value) == cli_message(cli.stderr)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_render_option_errors(tmp_path):
    scene = pinsynth.Scene.from_toml("[sweep]\ncount = 2\n")
    with pytest.raises(ValueError, match='formats: unknown format "tiff"; choose from imagefolder, mvtec, coco, wds, hf'):
        scene.render(tmp_path / "a", formats=["coco", "tiff"])
    with pytest.raises(ValueError, match="category"):
        scene.render(tmp_path / "b", formats=["mvtec"], category="../up")
    with pytest.raises(ValueError, match="shard: "):
        scene.render(tmp_path / "c", shard="3/2")
    assert not any(Path(tmp_path).iterdir())
