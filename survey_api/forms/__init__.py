"""Web forms for respondents: the customer survey and the staff self-assessment, page by page."""
