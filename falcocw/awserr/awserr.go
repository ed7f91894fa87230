// Package awserr sorts the errors AWS calls return into those a later retry
// may cure and those it never will, so the plugin can answer Fluent Bit
// with FLB_RETRY or FLB_ERROR.
package awserr

import (
	"context"
	"errors"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// permanentCodes are errors about the data itself: sending it again can
// never succeed.
var permanentCodes = map[string]bool{
	"InvalidParameterException":    true,
	"InvalidParameterValue":        true,
	"SerializationException":       true,
	"ValidationException":          true,
	"InvalidArgumentException":     true,
	"DataAlreadyAcceptedException": true,
	"MalformedQueryString":         true,
}

// Permanent reports whether err can never be cured by sending the same data
// again. Throttling, server errors, network errors, timeouts, missing
// resources and denied access are not permanent: the service may recover or
// the operator may fix the role or create the resource, and Fluent Bit's
// own retry limit bounds the attempts.
func Permanent(err error) bool {
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	var marked interface{ Permanent() bool }
	if errors.As(err, &marked) {
		return marked.Permanent()
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return permanentCodes[api.ErrorCode()]
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		s := re.HTTPStatusCode()
		return s == 400 || s == 413
	}
	return false
}

// Code returns the AWS error code of err, or "" when it has none.
func Code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// Is reports whether err carries the AWS error code code.
func Is(err error, code string) bool { return Code(err) == code }

// throttleCodes are the codes by which AWS services say a request came
// over a rate: the account's, a stream's or a shard's.
var throttleCodes = map[string]bool{
	"ThrottlingException":                    true, // CloudWatch Logs, EventBridge, Security Hub
	"Throttling":                             true, // SNS and other query-protocol services
	"ThrottledException":                     true,
	"Throttled":                              true,
	"RequestThrottled":                       true,
	"RequestThrottledException":              true,
	"TooManyRequestsException":               true, // Security Hub, EventBridge
	"LimitExceededException":                 true, // Kinesis, Security Hub: request rate
	"ProvisionedThroughputExceededException": true, // Kinesis: a shard's records or bytes
	"KMSThrottling":                          true,
	"KMSThrottlingException":                 true,
	"SlowDown":                               true, // S3
	"RequestLimitExceeded":                   true,
}

// ThrottleCode reports whether an error code, answered with an HTTP
// status (0: unknown, as for a batch's entries), says the request came
// over a rate. Firehose says "Slow down." with ServiceUnavailableException
// in a 400 answer; the same code in a 503 answer is an outage, not a rate.
func ThrottleCode(code string, status int) bool {
	if throttleCodes[code] || status == 429 {
		return true
	}
	return code == "ServiceUnavailableException" && status != 503 && status != 500
}

// Throttle reports whether err is an AWS answer that the request came
// over a rate.
func Throttle(err error) bool {
	if err == nil {
		return false
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ThrottleCode(Code(err), status)
}
