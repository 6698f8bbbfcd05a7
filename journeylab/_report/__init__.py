"""The report: the only place report HTML is built (sections of the report notebook, the inline figure
and table helpers, printing to PDF with a local Chromium)."""
