"""Where the chains start, the facets: `chains` (an optimized image per chain, dead starts
optimized again), `search` (seeds, then rounds that look for the facets they missed), its
`designs` (how a round makes its optima: deflation, probes) and `search_layer` (the features it
compares), and `photos` (a facet per cluster of a unit's top photos)."""
