package awsclient_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
)

// TestResend: entries that fail are sent again, exactly those, until they
// pass; an entry whose code never passes is rejected at once, named with
// its code, not resent until the deadline.
func TestResend(t *testing.T) {
	calls := map[int]int{}
	start := time.Now()
	acc, rej, err := awsclient.Resend(context.Background(), []int{1, 2, 3, 4}, func(i int) int { return i }, "entries",
		func(code string) bool { return code == "MalformedDetail" },
		func(pending []int) (map[int]awsclient.EntryError, error) {
			failed := map[int]awsclient.EntryError{}
			for i, x := range pending {
				calls[x]++
				switch {
				case x == 2:
					failed[i] = awsclient.EntryError{Code: "MalformedDetail", Message: "bad"}
				case x == 3 && calls[x] < 3:
					failed[i] = awsclient.EntryError{Code: "ThrottlingException", Message: "slow down"}
				}
			}
			return failed, nil
		})
	if err != nil || len(acc) != 3 || len(rej) != 1 || rej[0].ID != 2 || !strings.Contains(rej[0].Reason, "MalformedDetail: bad") {
		t.Fatalf("accepted %v rejected %v err %v", acc, rej, err)
	}
	if calls[1] != 1 || calls[2] != 1 || calls[3] != 3 || calls[4] != 1 {
		t.Errorf("sends per entry %v: want each accepted or rejected entry sent once, the throttled one three times", calls)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

// TestEntryErrors: an answer shorter than the request fails the entries
// it does not cover.
func TestEntryErrors(t *testing.T) {
	type ans struct{ code string }
	f := awsclient.EntryErrors(3, []ans{{""}, {"X"}}, func(a ans) string { return a.code }, func(ans) string { return "m" })
	if len(f) != 2 || f[1].Code != "X" || f[2].Code != "MissingAnswer" {
		t.Errorf("%v", f)
	}
}
