"""Lineage: ids and parents survive export and re-import; `sorakit lineage` prints the tree; a graph is drawn."""
from __future__ import annotations

import matplotlib
import pytest

from sorakit import cli, lineage
from sorakit.media import export, read_metadata
from sorakit.remix import remix
from sorakit.storyboard import Shot, storyboard

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def files(tiny_pipe, tmp_path_factory):
    """A two-shot storyboard's shots and film, and a remix of shot 2's file, exported as mp4s."""
    out = tmp_path_factory.mktemp("lineage")
    film = storyboard(tiny_pipe, ["a red ball is thrown", Shot("the red ball bounces", frames=4)],
                      num_inference_steps=2, progress=False)
    paths = [export(v, out / f"shot{k}.mp4", recipe=r) for k, (v, r) in enumerate(zip(film.shot_videos,
                                                                                       film.recipes), 1)]
    paths.append(export(film.video, out / "film.mp4", recipe=film.recipe))
    remixed = remix(tiny_pipe, paths[1], "a blue ball bounces", strength=0.5, num_inference_steps=2)
    paths.append(export(remixed.video, out / "remix.mp4", recipe=remixed.recipe))
    return film, remixed, paths


def test_ids_and_parents_survive_export_and_reimport(files):
    film, remixed, paths = files
    read = [read_metadata(p) for p in paths]
    assert [r.id for r in read] == [*(r.id for r in film.recipes), film.recipe.id, remixed.recipe.id]
    assert read[1].parents == (film.recipes[0].id,) and read[1].shot == 2 and read[1].storyboard == film.storyboard_id
    assert read[2].parents == tuple(r.id for r in film.recipes)
    # remix read shot 2's own recipe from its file: the remix's parent is that shot
    assert read[3].parents == (film.recipes[1].id,) and read[3].lineage.startswith(f"remix of {film.recipes[1].id}")


def test_the_signed_manifests_carry_the_same_tree(files, capsys):
    """The lineage travels in C2PA too: read from the manifests alone, the tree is the same."""
    _, _, paths = files
    mp4s = [p for p in paths if p.suffix == ".mp4"]
    assert lineage.read(mp4s, source="c2pa").text() == lineage.read(mp4s).text()
    assert cli.main(["lineage", "--from-c2pa", *map(str, mp4s)]) == 0
    assert capsys.readouterr().out.strip() == lineage.read(mp4s).text().strip()
    with pytest.raises(ValueError, match="source must be"):
        lineage.read(mp4s, source="exif")
    with pytest.raises(ValueError, match="no such file"):
        lineage.read([mp4s[0].with_name("missing.mp4")], source="c2pa")


def test_the_tree_links_every_clip_to_its_parents(files):
    film, remixed, paths = files
    tree = lineage.read(paths)
    first, second = (r.id for r in film.recipes)
    assert tree.roots == [first]
    assert tree.nodes[first].children == [second, film.recipe.id]
    assert sorted(tree.nodes[second].children) == sorted([film.recipe.id, remixed.recipe.id])
    assert tree.depth() == {first: 0, second: 1, film.recipe.id: 2, remixed.recipe.id: 2}
    text = tree.text().splitlines()
    assert text[0].startswith(f"{first}  shot 1 of storyboard {film.storyboard_id}") and "[shot1.mp4]" in text[0]
    assert sum(film.recipe.id in line for line in text) == 2 and any("(see above)" in line for line in text)
    assert any("remix at strength 0.5" in line and "[remix.mp4]" in line for line in text)


def test_a_parent_whose_file_is_not_given_appears_by_its_id(files):
    film, remixed, paths = files
    tree = lineage.read([paths[3]])
    parent = film.recipes[1].id
    assert tree.roots == [parent] and tree.nodes[parent].recipe is None
    assert tree.text().splitlines()[0] == f"{parent}  (file not given)"


def test_the_graph_draws_every_clip(files):
    _, _, paths = files
    figure = lineage.read(paths).plot()
    texts = [t.get_text() for t in figure.axes[0].texts]
    labels = [t for t in texts if t]
    assert len(labels) == 4 and sum("shot" in t for t in labels) == 2
    assert len(texts) - len(labels) == 4  # one arrow per parent link: 1->2, 1->film, 2->film, 2->remix


def test_the_cli_prints_the_tree_and_refuses_bad_files_in_one_line(files, capsys, tmp_path):
    film, _, paths = files
    assert cli.main(["lineage", *map(str, paths)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 5 and film.storyboard_id in out
    bare = tmp_path / "notes.txt"
    bare.write_text("hello")
    for argv, message in ((["lineage", str(bare)], "not a clip sorakit exports"),
                          (["lineage", str(tmp_path / "missing.mp4")], "no such video file")):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
