"""One module per revision, applied in order; a released revision is never edited, only followed."""
