"""Corpus preparation: each corpus's own files -> typed utterances -> Kaldi-style data dirs."""
