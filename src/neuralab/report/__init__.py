"""Rendering results: rich tables in the terminal, JSON / CSV / Markdown, figures, HTML."""
