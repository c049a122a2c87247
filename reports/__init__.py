"""Report of an audit run: LaTeX document (Jinja2 template), matplotlib figures (PDF) and its compilation.

``reports.render.write_report(results, out_dir)`` is the one entry point; ``reports.figures`` draws the
figures it includes.
"""
