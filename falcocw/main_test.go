package falcocw_test

import (
	"os"
	"testing"

	"github.com/falcocw/falcocw/falcocw/arena"
)

// TestMain poisons released event buffers, so that an event used after
// its flush reaches the tests' content checks as garbage.
func TestMain(m *testing.M) {
	arena.Poison = true
	os.Exit(m.Run())
}
