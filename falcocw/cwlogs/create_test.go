package cwlogs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/falcocw/falcocw/falcocw/awsclient"
	"github.com/falcocw/falcocw/falcocw/cwlogs"
	"github.com/falcocw/falcocw/internal/fakeaws"
)

// TestStreamCreatedBeforeFirstPut: a stream new to the sink is created
// before its first PutLogEvents, so that no put fails for it (at a fleet's
// start every node's failed first put took from the account's quota);
// later batches only put; a stream that exists costs one CreateLogStream
// answered ResourceAlreadyExistsException; a group missing is created
// when auto_create_group allows; a stream deleted later is created again.
func TestStreamCreatedBeforeFirstPut(t *testing.T) {
	fakeaws.SetEnv(t)
	srv := fakeaws.New()
	defer srv.Close()
	a, err := awsclient.New(context.Background(), awsclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := cwlogs.New(cwlogs.NewClient(a, srv.URL), cwlogs.Options{AutoCreateGroup: true, AutoCreateStream: true}, func(string, ...any) {})
	ctx := context.Background()
	put := func(group, stream string) {
		t.Helper()
		batch := []cwlogs.Event{{ID: 0, Time: time.Now(), Message: []byte(`{"rule":"R"}`)}}
		r, err := s.PutBatch(ctx, group, stream, batch)
		if err != nil || len(r.Accepted) != 1 {
			t.Fatalf("put to %s/%s: %+v, %v", group, stream, r, err)
		}
	}
	step := func(name string, want map[string]int) {
		t.Helper()
		got := srv.Calls()
		for op, n := range want {
			if got[op] != n {
				t.Errorf("%s: %d %s calls, want %d (all: %v)", name, got[op], op, n, got)
			}
		}
	}
	srv.CreateLogGroup("/falco/alerts")
	put("/falco/alerts", "node-1")
	step("a new stream", map[string]int{"CreateLogStream": 1, "PutLogEvents": 1, "CreateLogGroup": 0})
	put("/falco/alerts", "node-1")
	step("the same stream again", map[string]int{"CreateLogStream": 1, "PutLogEvents": 2})
	put("/falco/new-group", "node-1")
	step("a new group", map[string]int{"CreateLogGroup": 1, "CreateLogStream": 3, "PutLogEvents": 3})
	srv.DeleteLogGroup("/falco/alerts")
	put("/falco/alerts", "node-1")
	step("a group deleted", map[string]int{"CreateLogGroup": 2, "PutLogEvents": 5})
	if n := len(srv.LogStreams()); n != 2 {
		t.Errorf("%d streams hold events, want 2: %v", n, fmt.Sprint(srv.LogStreams()))
	}
}
