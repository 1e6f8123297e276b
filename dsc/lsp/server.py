"""The language server: `dsc.lsp.features` spoken over the Language Server Protocol with pygls.

Documents are synchronised whole (`TextDocumentSyncKind.Full`): a spec is small, and the server
then never applies an edit by a line table of its own guessing. Every offset `features` answers
with goes through `dsc.lsp.positions.Lines` in the position encoding the client and pygls agreed
on at `initialize` (UTF-16 unless the client offers another).
"""
from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from dsc import __version__
from dsc.diagnostics import ERROR
from dsc.lsp import features
from dsc.lsp.positions import UTF16, Lines

SOURCE = "dsc"
TRIGGERS = [" ", ",", "[", ":"]
_KINDS = {
    "keyword": lsp.CompletionItemKind.Keyword, "value": lsp.CompletionItemKind.EnumMember,
    "column": lsp.CompletionItemKind.Field, "locale": lsp.CompletionItemKind.Constant,
    "currency": lsp.CompletionItemKind.Constant, "unit": lsp.CompletionItemKind.Unit,
}


def _encoding(ls: LanguageServer) -> str:
    value = ls.workspace.position_encoding or UTF16
    return getattr(value, "value", value)


class DscServer(LanguageServer):
    """pygls' server, with the compiled form of each open document kept until its text changes
    (hover and definition after a change then reuse the diagnostics' compile)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.documents: dict[str, features.Document] = {}


def _document(ls: DscServer, uri: str) -> tuple[features.Document, Lines]:
    text = ls.workspace.get_text_document(uri).source
    doc = ls.documents.get(uri)
    if doc is None or doc.text != text:
        path = to_fs_path(uri) if uri.startswith("file:") else None
        doc = ls.documents[uri] = features.Document(text, Path(path) if path else None, display=uri)
    return doc, Lines(text, _encoding(ls))


def _range(lines: Lines, start: int, end: int) -> lsp.Range:
    return lsp.Range(lsp.Position(*lines.position(start)), lsp.Position(*lines.position(end)))


def lsp_diagnostics(doc: features.Document, lines: Lines) -> list[lsp.Diagnostic]:
    """`dsc check`'s diagnostics as the protocol's: the code, the message and the hint under it
    (as `dsc check` prints it); a diagnostic about the whole file sits at its start."""
    out = []
    try:
        found = features.diagnostics(doc)
    except Exception as err:  # noqa: BLE001 — a bug in dsc: say so where the editor shows it, and keep serving
        return [lsp.Diagnostic(range=_range(lines, 0, 0), severity=lsp.DiagnosticSeverity.Error, source=SOURCE,
                               message=f"internal error: {type(err).__name__}: {err}\n"
                                       "this is a bug in dsc; `DSC_DEBUG=1 dsc check FILE` shows the traceback")]
    for diag, where in found:
        message = diag.message + (f"\nhint: {diag.hint}" if diag.hint else "")
        out.append(lsp.Diagnostic(
            range=_range(lines, *where) if where else _range(lines, 0, 0),
            message=message,
            severity=lsp.DiagnosticSeverity.Error if diag.severity == ERROR else lsp.DiagnosticSeverity.Warning,
            code=diag.code,
            source=SOURCE,
            data={"hint": diag.hint} if diag.hint else None,
        ))
    return out


def build() -> DscServer:
    """A language server with every feature registered (started by `dsc lsp`)."""
    server = DscServer("dsc", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Full)

    def publish(ls: DscServer, uri: str, version: int | None) -> None:
        doc, lines = _document(ls, uri)
        ls.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=lsp_diagnostics(doc, lines), version=version))

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DscServer, params: lsp.DidOpenTextDocumentParams) -> None:
        publish(ls, params.text_document.uri, params.text_document.version)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DscServer, params: lsp.DidChangeTextDocumentParams) -> None:
        publish(ls, params.text_document.uri, params.text_document.version)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DscServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.documents.pop(params.text_document.uri, None)  # files the spec names may have appeared: check again
        publish(ls, params.text_document.uri, None)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DscServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.documents.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: DscServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
        doc, lines = _document(ls, params.text_document.uri)
        text = features.formatted(doc)
        if text is None or text == doc.text:
            return [] if text is not None else None
        return [lsp.TextEdit(range=_range(lines, 0, len(doc.text)), new_text=text)]

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=TRIGGERS))
    def completion(ls: DscServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        doc, lines = _document(ls, params.text_document.uri)
        offset = lines.offset(params.position.line, params.position.character)
        items = [
            lsp.CompletionItem(
                label=item.label, kind=_KINDS[item.kind], detail=item.detail,
                documentation=(lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=item.documentation)
                               if item.documentation else None),
                sort_text=f"{n:05d}",
            )
            for n, item in enumerate(features.completions(doc, offset))
        ]
        return lsp.CompletionList(is_incomplete=False, items=items)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: DscServer, params: lsp.HoverParams) -> lsp.Hover | None:
        doc, lines = _document(ls, params.text_document.uri)
        found = features.hover(doc, lines.offset(params.position.line, params.position.character))
        if found is None:
            return None
        text, (start, end) = found
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text),
                         range=_range(lines, start, end))

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: DscServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        doc, lines = _document(ls, params.text_document.uri)
        found = features.definition(doc, lines.offset(params.position.line, params.position.character))
        if found is None:
            return None
        return lsp.Location(uri=params.text_document.uri, range=_range(lines, *found))

    return server


def serve() -> None:
    """Serve over standard input and output until the client says `exit`."""
    build().start_io()
