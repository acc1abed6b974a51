"""The same models written directly in peer packages, as independent references."""
