"""Tools that talk to a real endpoint: the validating proxy, its recording and
pseudonymiser, mock-versus-real comparison and spec drift."""
