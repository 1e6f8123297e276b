"""No module uses a private name (`_…`) of another module's kernel: engines, gates, `dsc profile`
and the benches compose the kernels' public, documented APIs (the near-duplicate stages above all),
so a kernel can change its internals without breaking a caller it cannot see.

Both spellings count: `from dsc.kernels.near import _verify` and `near._verify` on an imported
kernel module. The modules are dsc/ and bench/; tests may probe the internals they test.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _private_uses(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = path.stem if path.parent.name == "kernels" and path.parent.parent.name == "dsc" else None
    aliases: dict[str, str] = {}  # local name -> kernel module it stands for
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module.startswith("dsc.kernels."):
                kernel = node.module.split(".")[2]
                found += [f"{path.relative_to(root)}:{node.lineno}: from {node.module} import {a.name}"
                          for a in node.names if a.name.startswith("_") and kernel != own]
            elif node.module == "dsc.kernels":
                aliases.update({a.asname or a.name: a.name for a in node.names})
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("dsc.kernels.") and a.asname:
                    aliases[a.asname] = a.name.split(".")[2]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr.startswith("_") \
                and not node.attr.startswith("__") and aliases.get(node.value.id, own) != own:
            found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_module_uses_a_private_name_of_another_modules_kernel():
    files = [p for folder in ("dsc", "bench") for p in sorted((ROOT / folder).rglob("*.py"))]
    assert len(files) > 100
    assert [use for p in files for use in _private_uses(p)] == []


def test_the_check_sees_both_spellings(tmp_path):
    bad = tmp_path / "engine.py"
    bad.write_text("from dsc.kernels.near import _verify, signatures\nfrom dsc.kernels import near\n"
                   "near._band_keys(1)\nnear.signatures\n", encoding="utf-8")
    assert [u.split(": ", 1)[1] for u in _private_uses(bad, tmp_path)] == [
        "from dsc.kernels.near import _verify", "near._band_keys"]
