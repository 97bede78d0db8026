"""Lecture decks built from the chapter notebooks (``make slides``); see slides/README.md."""
