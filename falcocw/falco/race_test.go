//go:build race

package falco

const raceEnabled = true
