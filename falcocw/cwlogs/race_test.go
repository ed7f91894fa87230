//go:build race

package cwlogs

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// counts of allocations that rely on a pool do not hold under it.
const raceEnabled = true
