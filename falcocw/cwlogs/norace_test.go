//go:build !race

package cwlogs

const raceEnabled = false
