"""Syntax: source text → Lark parse tree → AST (spans kept, comments kept for `fmt`)."""
