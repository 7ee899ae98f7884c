"""Where clips came from: the tree of remixes, extensions and storyboard shots behind exported files.

    tree = lineage.read(["film.mp4", "shot1.mp4", "remix.mp4"])   # Lineage: one node per clip id
    print(tree.text())                                           # `sorakit lineage a.mp4 b.mp4 ...`
    tree.plot()                                                  # a matplotlib graph, for notebooks

Every exported clip carries its Recipe (`sorakit.export`), whose `parents` are the ids of the clips
it was made from and whose `lineage` says how. A parent whose file was not given still appears,
by its id alone, so a tree read from one file shows that file's parents.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .recipe import Recipe

__all__ = ["Lineage", "Node", "read"]


@dataclass
class Node:
    id: str
    recipe: Recipe | None = None  # None: a parent named by a given clip, whose own file was not given
    path: Path | None = None
    children: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """One line: id, how it was made, prompt, file."""
        if self.recipe is None:
            return f"{self.id}  (file not given)"
        r = self.recipe
        if r.storyboard:
            how = f"{f'shot {r.shot}' if r.shot else 'film'} of storyboard {r.storyboard}"
        elif r.derivation == "remix":
            how = f"remix at strength {r.strength:g}"
        else:
            how = r.derivation or ("made from its parents" if r.parents else "generated")
        words = f' "{r.prompt[:50]}"' if r.prompt else ""
        where = f"  [{self.path.name}]" if self.path is not None else ""
        return f"{self.id}  {how}{words}{where}"


@dataclass
class Lineage:
    """Clips by id, each with its recipe, file and children (the clips made from it)."""

    nodes: dict[str, Node]

    @property
    def roots(self) -> list[str]:
        """Clips made from a prompt alone, and parents whose files were not given (their own parents unknown)."""
        return [i for i, n in self.nodes.items() if n.recipe is None or not n.recipe.parents]

    def text(self) -> str:
        """The tree as indented lines; a clip with several parents is written under the first, and named
        again (`see above`) under the others."""
        lines, shown = [], set()

        def walk(node_id: str, prefix: str, last: bool, top: bool) -> None:
            node = self.nodes[node_id]
            branch = "" if top else ("└─ " if last else "├─ ")
            if node_id in shown:
                lines.append(f"{prefix}{branch}{node_id}  (see above)")
                return
            shown.add(node_id)
            lines.append(f"{prefix}{branch}{node.label}")
            inner = prefix + ("" if top else ("   " if last else "│  "))
            for k, child in enumerate(node.children):
                walk(child, inner, k == len(node.children) - 1, False)

        for root in self.roots:
            walk(root, "", True, True)
        return "\n".join(lines)

    def depth(self) -> dict[str, int]:
        """Generation of each clip: 0 for roots, else one more than its deepest known parent."""
        depth: dict[str, int] = {}

        def of(node_id: str, seen: frozenset) -> int:
            if node_id not in depth:
                node = self.nodes[node_id]
                parents = [p for p in (node.recipe.parents if node.recipe else ()) if p in self.nodes and p not in seen]
                depth[node_id] = 1 + max((of(p, seen | {node_id}) for p in parents), default=-1)
            return depth[node_id]

        for node_id in self.nodes:
            of(node_id, frozenset())
        return depth

    def plot(self, ax=None):
        """The tree as a graph (matplotlib): one column per generation, an arrow from each parent."""
        import matplotlib.pyplot as plt

        depth = self.depth()
        columns: dict[int, list[str]] = {}
        for node_id, d in depth.items():
            columns.setdefault(d, []).append(node_id)
        where = {i: (d, -k) for d, ids in columns.items() for k, i in enumerate(ids)}
        if ax is None:
            tall = max(len(ids) for ids in columns.values()) if columns else 1
            _, ax = plt.subplots(figsize=(3.2 * max(len(columns), 1), 1.1 * tall + 0.6))
        for node_id, node in self.nodes.items():
            for child in node.children:
                ax.annotate("", xy=where[child], xytext=where[node_id],
                            arrowprops={"arrowstyle": "->", "color": "0.5", "shrinkA": 18, "shrinkB": 18})
        for node_id, (x, y) in where.items():
            label = "\n".join(_wrap(self.nodes[node_id].label, 34)[:3])
            ax.text(x, y, label, ha="center", va="center", fontsize=7,
                    bbox={"boxstyle": "round", "fc": "white" if self.nodes[node_id].recipe else "0.9", "ec": "0.4"})
        ax.set_xlim(-0.6, max(len(columns) - 0.4, 0.6))
        ax.set_ylim(min((y for _, y in where.values()), default=0) - 0.6, 0.6)
        ax.axis("off")
        return ax.figure


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]


def from_recipes(recipes: Iterable[Recipe], paths: Iterable[Path | None] | None = None) -> Lineage:
    """The tree of these recipes (and of the parents they name)."""
    recipes = list(recipes)
    paths = list(paths) if paths is not None else [None] * len(recipes)
    nodes: dict[str, Node] = {}
    for recipe, path in zip(recipes, paths):
        node = nodes.setdefault(recipe.id, Node(recipe.id))
        node.recipe, node.path = recipe, node.path or path
    for recipe in recipes:
        for parent in recipe.parents:
            children = nodes.setdefault(parent, Node(parent)).children
            if recipe.id not in children:
                children.append(recipe.id)
    return Lineage(nodes)


def read(paths: Iterable[str | os.PathLike], source: str = "recipe") -> Lineage:
    """The tree of the clips in these files (exported by `sorakit.export`). ValueError for a file that
    is missing, is not a video, or carries no recipe.

    source: "recipe" reads the recipe sorakit writes into the file's metadata; "c2pa" reads the one in
    its signed C2PA manifest (mp4 only), the public standard other tools read too."""
    from .media_read import read_metadata

    if source not in ("recipe", "c2pa"):
        raise ValueError(f"source must be 'recipe' or 'c2pa', got {source!r}")
    recipe_of = _manifest_recipe if source == "c2pa" else read_metadata
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("give at least one exported clip (.mp4 or .gif)")
    recipes = []
    for path in paths:
        if path.suffix.lower() not in (".mp4", ".gif"):
            raise ValueError(f"{path}: not a clip sorakit exports (.mp4 or .gif)")
        recipe = recipe_of(path)
        if recipe is None:
            raise ValueError(f"{path}: carries no sorakit recipe, so its lineage is unknown")
        recipes.append(recipe)
    return from_recipes(recipes, paths)


def _manifest_recipe(path: Path) -> Recipe | None:
    from .provenance.manifest import manifest_recipe

    if path.suffix.lower() != ".mp4":
        raise ValueError(f"{path}: only mp4 clips carry a C2PA manifest")
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    data = manifest_recipe(path)
    return None if data is None else Recipe.from_dict(data)
