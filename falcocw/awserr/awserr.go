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
