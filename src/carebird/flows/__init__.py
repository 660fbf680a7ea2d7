"""Use cases: the service call, the search index and the live events in one function each."""
