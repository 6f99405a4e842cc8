"""Free-text questions about EDS keys: knowledge base, lexical matcher and answer service."""
