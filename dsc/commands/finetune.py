"""`dsc finetune config` and `dsc finetune compare`: the command group over `dsc.finetune`.

Kept light to import: torch, transformers and peft load inside the commands, so registering
this sub-app costs `dsc check` nothing. A problem with the spec, its model or its data is a
diagnostic pointing at the finetune setting at fault — exit 2 for what the spec says, exit 4
for a file that is not there — never a traceback.
"""
from __future__ import annotations

import importlib.util
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

from dsc.atomic import write_atomic
from dsc.commands.common import compile_or_exit
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR

finetune_app = typer.Typer(
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Fine-tuning config and resource estimates.",
)

_TRAIN_PACKAGES = ("torch", "transformers", "peft", "accelerate")  # the `train` extra
_TRAIN_HELP = "The train split to count tokens in (default: the spec's export for the train split in the run folder)."
_RUN_HELP = "The folder `dsc run SPEC --out` wrote (default: out/<spec name>)."


@finetune_app.command("config")
def config_cmd(
    spec: Path = typer.Argument(..., help="The .dspec file."),
    out: Path = typer.Option(..., "--out", help="Folder for peft_config.json, training_args.json, train.py, estimates.json."),
    train: Optional[Path] = typer.Option(None, "--train", help=_TRAIN_HELP),
    run: Optional[Path] = typer.Option(None, "--run", help=_RUN_HELP),
    method: Optional[str] = typer.Option(None, "--method", help="Which finetune block, when the spec has several."),
):
    """Write a ready training configuration for the spec's finetune block, with its estimates."""
    from dsc.finetune import jsontext
    from dsc.finetune.compare import compare
    from dsc.finetune.config import ScriptContext, peft_config, train_script, training_args
    from dsc.finetune.settings import recipe

    compiled = _compiled(spec)
    with _reported(compiled):
        block = _block(compiled.plan, method)
        chosen = recipe(block, compiled.plan.dataset.seed)
        inputs = _inputs(compiled, spec, chosen.base, train, run)
        estimates = compare([chosen], inputs)
        est = estimates["methods"][0]
        files = {"training_args.json": jsontext.dumps(training_args(chosen, est["settings"]["max_length"]))}
        peft = peft_config(chosen, inputs.facts)
        if peft is not None:
            files["peft_config.json"] = jsontext.dumps(peft)
        context = ScriptContext(out, str(spec), compiled.plan.dataset.name, compiled.plan.fingerprint,
                                inputs.train_path)
        files["train.py"] = train_script(chosen, inputs.base, est["settings"]["max_length"], context)
        files["estimates.json"] = jsontext.dumps(_with_plan(estimates, spec, compiled.plan))
    _claim(out, [*files, *([] if peft is not None else ["peft_config.json"])], compiled.plan,
           spec.resolve().parent)
    for name, text in files.items():
        write_atomic(out / name, text)
    if peft is None:  # a folder configured for LoRA before must not keep a PEFT config full training ignores
        (out / "peft_config.json").unlink(missing_ok=True)
    _record(out, files)
    hours = est["gpu_hours"]
    typer.echo(f"wrote {', '.join(sorted(files))} to {out}/")
    typer.echo(f"{chosen.method}: {est['parameters']['trainable']:,} trainable of "
               f"{est['parameters']['base_total']:,} parameters; peak memory ≈ {est['memory']['total_gib']} GiB; "
               f"GPU-hours {format(hours.normalize(), 'f') if hours is not None else 'not estimated'}")
    for w in est["warnings"]:
        typer.echo(f"warning[{w['id']}]: {w['message']}", err=True)


@finetune_app.command("compare")
def compare_cmd(
    spec: Path = typer.Argument(..., help="The .dspec file."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as JSON."),
    train: Optional[Path] = typer.Option(None, "--train", help=_TRAIN_HELP),
    run: Optional[Path] = typer.Option(None, "--run", help=_RUN_HELP),
):
    """Compare full fine-tuning, LoRA and prompt tuning for the spec's base model and data."""
    from dsc.finetune import jsontext
    from dsc.finetune.compare import compare_plan, render

    compiled = _compiled(spec)
    with _reported(compiled):
        comparison = compare_plan(compiled.plan, spec, run, train)
    if as_json:
        typer.echo(jsontext.dumps({"spec": spec.as_posix(), **comparison}), nl=False)
        return
    from dsc.commands.common import console

    console().print(render(comparison))


def _compiled(spec: Path):
    missing = [name for name in _TRAIN_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        typer.echo(f"dsc finetune needs {', '.join(missing)}: pip install 'dsc[train]'", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR)
    # dsc never downloads: a hub model must already be in the local cache.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return compile_or_exit(spec)


def _inputs(compiled, spec: Path, base: str | None, train: Path | None, run: Path | None):
    from dsc.finetune.inputs import load_inputs, train_split_path

    path = train_split_path(compiled.plan, spec, run, train)
    return load_inputs(base, spec.resolve().parent, path)


def _block(plan, method: str | None):
    from dsc.finetune.errors import FinetuneError

    if not plan.finetune:
        raise FinetuneError("DSC212", "the spec has no finetune block",
                            hint='add a block "finetune lora { … }" holding a line base "models/NAME"')
    if method is None:
        if len(plan.finetune) > 1:
            raise FinetuneError("DSC214", "the spec has several finetune blocks; say which one to configure",
                                hint="--method " + " or --method ".join(b.method for b in plan.finetune))
        return plan.finetune[0]
    for block in plan.finetune:
        if block.method == method:
            return block
    raise FinetuneError("DSC212", f"the spec has no 'finetune {method}' block",
                        hint="its blocks: " + ", ".join(b.method for b in plan.finetune))


def _with_plan(data: dict, spec: Path, plan) -> dict:
    return {"spec": spec.as_posix(), "plan": plan.fingerprint, **data}


_RECORD = ".dsc-finetune.json"  # the files `finetune config` wrote into --out, with their sha256


def _claim(out: Path, names: list[str], plan, base_dir: Path) -> None:
    """Refuse (exit 4, nothing written) an --out that meets what the spec's run reads, and one
    holding a file this command would replace or remove that it did not write, or that was
    changed since (its sha256 differs from the record): it never overwrites nor deletes what
    it did not write, as `dsc run` never does."""
    import hashlib
    import json

    from dsc.engines.outputs import reads_reached

    reached = reads_reached(out, plan, base_dir, [(name, False) for name in names])
    if reached:
        typer.echo(f"error[DSC305]: --out {out} meets what the spec reads; nothing was written:\n  "
                   + "\n  ".join(reached) + "\nchoose a folder apart from the spec's inputs", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR)
    try:
        record = json.loads((out / _RECORD).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        record = {}
    in_way = [name for name in names if os.path.lexists(out / name) and not (
        (out / name).is_file() and not (out / name).is_symlink() and isinstance(record, dict)
        and record.get(name) == hashlib.sha256((out / name).read_bytes()).hexdigest())]
    if in_way:
        typer.echo(f"error[DSC305]: {out}/ holds what this would replace, which dsc did not write (or which "
                   "was changed since); nothing was written:\n  " + "\n  ".join(in_way)
                   + "\nmove them away, or choose another --out", err=True)
        raise typer.Exit(EXIT_INPUT_ERROR)


def _record(out: Path, files: dict[str, str]) -> None:
    """Note what was written, so a later `finetune config` into the folder may replace it."""
    import hashlib
    import json

    digests = {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in sorted(files.items())}
    write_atomic(out / _RECORD, json.dumps({"files": digests}, indent=2) + "\n")


@contextmanager
def _reported(compiled):
    """Turn a FinetuneError raised inside the block into a rendered diagnostic and an exit code."""
    from dsc.diagnostics import Diagnostic, render
    from dsc.finetune.errors import FinetuneError

    try:
        yield
    except FinetuneError as err:
        span = _span(compiled.spec, err)
        typer.echo(render(Diagnostic(err.code, err.message, span, err.hint), compiled.source), err=True)
        raise typer.Exit(EXIT_INPUT_ERROR if err.missing else EXIT_SPEC_ERROR) from None


def _span(spec, err):
    """The spec position of the setting (or value) an error is about, else of its block; none for
    a data file that is missing or unreadable, which no line of the spec is at fault for."""
    from dsc import ast
    from dsc.syntax.source import NO_SPAN

    blocks = spec.of(ast.FinetuneBlock) if spec is not None else []
    if not blocks or (err.missing and err.setting is None):
        return NO_SPAN
    block = next((b for b in blocks if b.method.value == err.method), blocks[0])
    for setting in block.settings:
        if setting.name.value != err.setting:
            continue
        for value in setting.values:
            if err.value is not None and getattr(value, "value", None) == err.value:
                return value.span
        return setting.values[0].span if setting.values and err.value is None else setting.name.span
    return block.method.span
