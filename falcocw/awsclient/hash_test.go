package awsclient

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/falcocw/falcocw/internal/fakeaws"
)

// TestBodyReadOncePerAttempt: the signer gets the body's payload hash from
// Body.PayloadHash, so the SDK does not read the body itself to hash it;
// the transport's read is the only one, once per attempt. The endpoint
// checks each attempt's signature over the body it received, so a wrong
// hash fails the call.
func TestBodyReadOncePerAttempt(t *testing.T) {
	for _, tc := range []struct {
		name     string
		failures int32 // throttled attempts before the one that succeeds
	}{
		{"one attempt", 0},
		{"retried twice", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeaws.New()
			defer srv.Close()
			srv.VerifySignatures("AKIAFALCOCWHASHTEST", "secret")
			srv.CreateLogGroup("g")
			var calls atomic.Int32
			srv.SetFault(func(op string, body []byte) (int, string) {
				if op == "PutLogEvents" && calls.Add(1) <= tc.failures {
					return 400, "ThrottlingException"
				}
				return 0, ""
			})
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFALCOCWHASHTEST")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			t.Setenv("AWS_CONFIG_FILE", "/dev/null")
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
			a, err := New(context.Background(), Options{Region: "eu-west-1"})
			if err != nil {
				t.Fatal(err)
			}
			base, hc := a.Endpoint(srv.URL)
			cw := cloudwatchlogs.NewFromConfig(a.Config, func(o *cloudwatchlogs.Options) { o.BaseEndpoint, o.HTTPClient = base, hc })
			ctx := context.Background()
			if _, err := cw.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")}); err != nil {
				t.Fatal(err)
			}

			body := NewBody(256)
			defer body.Release()
			body.Append(func(b []byte) []byte {
				b = append(b, `{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":`...)
				b = strconv.AppendInt(b, time.Now().UnixMilli(), 10)
				return append(b, `,"message":"{\"rule\":\"Terminal shell in container\"}"}]}`...)
			})
			_, err = cw.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
				LogEvents: []types.InputLogEvent{}}, func(o *cloudwatchlogs.Options) { o.APIOptions = append(o.APIOptions, WithBody(body)) })
			if err != nil {
				t.Fatalf("PutLogEvents: %v", err)
			}
			attempts := int(tc.failures) + 1
			body.mu.Lock() // the transport may still hold the body
			read, size := body.read, len(body.buf)
			body.mu.Unlock()
			if got, want := read, attempts*size; got != want {
				t.Errorf("the body was read for %d bytes in %d attempts; want %d (%d bytes once per attempt)", got, attempts, want, size)
			}
			if got := srv.Events("g", "s"); len(got) != 1 {
				t.Errorf("stored %d events, want 1", len(got))
			}
			if v := srv.Verified(); v != attempts+1 { // and CreateLogStream
				t.Errorf("%d signatures checked and right, want %d", v, attempts+1)
			}
		})
	}
}
