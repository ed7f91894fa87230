package awsclient_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/falcocw/falcocw/falcocw/awsclient"
)

// TestThrottlingRetriedInsideTheCall: each service's way of saying "slow
// down", whatever its HTTP status, is retried by the client itself, so the
// call succeeds once the service recovers and the flush never answers
// Fluent Bit with FLB_RETRY for it. A data error is not retried.
func TestThrottlingRetriedInsideTheCall(t *testing.T) {
	for _, tc := range []struct {
		service string
		status  int
		code    string
		retried bool
	}{
		{"firehose", 400, "ServiceUnavailableException", true}, // Firehose's throttling
		{"firehose", 500, "InternalFailure", true},
		{"firehose", 400, "InvalidArgumentException", false},
		{"cloudwatch", 400, "ThrottlingException", true},
		{"cloudwatch", 400, "OperationAbortedException", true},
		{"cloudwatch", 400, "InvalidParameterException", false},
		{"sns", 400, "Throttling", true},
		{"sns", 429, "Throttled", true},
		{"sns", 400, "KMSThrottling", true},
		{"sns", 400, "InvalidParameter", false},
	} {
		t.Run(tc.service+"/"+tc.code, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("x-amzn-RequestId", "req")
				query := strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
				if calls.Add(1) <= 2 { // two failures, then success
					w.WriteHeader(tc.status)
					if query {
						fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>slow down</Message></Error><RequestId>req</RequestId></ErrorResponse>`, tc.code)
					} else {
						_ = json.NewEncoder(w).Encode(map[string]string{"__type": tc.code, "message": "Slow down."})
					}
					return
				}
				switch {
				case query:
					fmt.Fprint(w, `<PublishResponse><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>req</RequestId></ResponseMetadata></PublishResponse>`)
				case strings.Contains(r.Header.Get("X-Amz-Target"), "PutRecordBatch"):
					fmt.Fprint(w, `{"FailedPutCount":0,"RequestResponses":[{"RecordId":"r-1"}]}`)
				default:
					fmt.Fprint(w, `{"nextSequenceToken":"1"}`)
				}
			}))
			defer srv.Close()
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFALCOCWRETRYTEST")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			t.Setenv("AWS_CONFIG_FILE", "/dev/null")
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
			a, err := awsclient.New(context.Background(), awsclient.Options{Region: "eu-west-1"})
			if err != nil {
				t.Fatal(err)
			}
			base, hc := a.Endpoint(srv.URL)
			fh := firehose.NewFromConfig(a.Config, func(o *firehose.Options) { o.BaseEndpoint, o.HTTPClient = base, hc })
			cw := cloudwatchlogs.NewFromConfig(a.Config, func(o *cloudwatchlogs.Options) { o.BaseEndpoint, o.HTTPClient = base, hc })
			sn := sns.NewFromConfig(a.Config, func(o *sns.Options) { o.BaseEndpoint, o.HTTPClient = base, hc })
			ctx := context.Background()
			switch tc.service {
			case "firehose":
				_, err = fh.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("s"),
					Records: []fhtypes.Record{{Data: []byte("x\n")}}})
			case "cloudwatch":
				_, err = cw.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"),
					LogStreamName: aws.String("s"), LogEvents: []cwtypes.InputLogEvent{{Message: aws.String("x"), Timestamp: aws.Int64(1)}}})
			case "sns":
				_, err = sn.Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:eu-west-1:123456789012:t"), Message: aws.String("x")})
			}
			if tc.retried {
				if err != nil || calls.Load() != 3 {
					t.Fatalf("after %d calls: %v; want success at the 3rd call", calls.Load(), err)
				}
			} else if err == nil || calls.Load() != 1 {
				t.Fatalf("after %d calls: %v; want the error after 1 call", calls.Load(), err)
			}
		})
	}
}
