"""Where the chains start, the facets: `chains` (an optimized image per chain, dead starts
optimized again), `search` (seeds, then climbs steered away from every facet found) and
`photos` (a facet per cluster of a unit's top photos)."""
