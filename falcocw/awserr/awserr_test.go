package awserr_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/falcocw/falcocw/falcocw/awserr"
)

type marked bool

func (m marked) Error() string   { return "marked" }
func (m marked) Permanent() bool { return bool(m) }

func respErr(status int) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: errors.New("x")}}
}

func TestPermanent(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"deadline", context.DeadlineExceeded, false},
		{"wrapped cancel", fmt.Errorf("x: %w", context.Canceled), false},
		{"invalid parameter", &smithy.GenericAPIError{Code: "InvalidParameterException"}, true},
		{"validation", &smithy.GenericAPIError{Code: "ValidationException"}, true},
		{"throttling", &smithy.GenericAPIError{Code: "ThrottlingException"}, false},
		{"firehose throttling", &smithy.GenericAPIError{Code: "ServiceUnavailableException"}, false},
		{"access denied", &smithy.GenericAPIError{Code: "AccessDeniedException"}, false},
		{"missing group", &smithy.GenericAPIError{Code: "ResourceNotFoundException"}, false},
		{"marked permanent", fmt.Errorf("w: %w", marked(true)), true},
		{"marked transient", marked(false), false},
		{"bare 400", respErr(400), true},
		{"bare 413", respErr(413), true},
		{"bare 503", respErr(503), false},
		{"network", errors.New("connection reset by peer"), false},
	} {
		if got := awserr.Permanent(tc.err); got != tc.want {
			t.Errorf("%s: Permanent = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCode(t *testing.T) {
	err := fmt.Errorf("op: %w", &smithy.GenericAPIError{Code: "ThrottlingException"})
	if awserr.Code(err) != "ThrottlingException" || !awserr.Is(err, "ThrottlingException") || awserr.Code(errors.New("x")) != "" {
		t.Errorf("Code = %q", awserr.Code(err))
	}
}

func TestThrottle(t *testing.T) {
	answer := func(status int, code string) error {
		return fmt.Errorf("operation error: %w", &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: &smithy.GenericAPIError{Code: code}}})
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"CloudWatch Logs", answer(400, "ThrottlingException"), true},
		{"Security Hub", answer(429, "TooManyRequestsException"), true},
		{"bare 429", respErr(429), true},
		{"Firehose slow down", answer(400, "ServiceUnavailableException"), true},
		{"Firehose outage", answer(503, "ServiceUnavailableException"), false},
		{"Kinesis entry", &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException"}, true},
		{"server error", answer(500, "InternalFailure"), false},
		{"validation", answer(400, "ValidationException"), false},
		{"network", errors.New("connection reset by peer"), false},
	} {
		if got := awserr.Throttle(tc.err); got != tc.want {
			t.Errorf("%s: Throttle = %v, want %v", tc.name, got, tc.want)
		}
	}
}
