"""`dsc lsp`: the language server for .dspec files, over stdio.

What it offers an editor, each answered from the same code the command line runs:

- diagnostics as you type: `dsc check`'s codes, messages and hints (`dsc.api.compile_text`);
- formatting: `dsc fmt` (`dsc.fmt.format_source`);
- completion: block and statement keywords (the clean rules' from the operator registry), option
  words, locales, units, currency codes, and the columns of the spec's own schema;
- hover: the documentation of a keyword, taken from docs/language.md; a column's declaration;
- go to definition: from a column use to its line in the schema.

The pieces that know nothing of the protocol library are plain functions (`positions`, `docs`,
`features`); `server` wires them to pygls. pygls and lsprotocol are the `lsp` extra of dsc.
"""
