package awsclient

import (
	"context"
	"fmt"
	"io"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// WithBody makes one call send body, already serialised, as its request
// body. The SDK serialises the (minimal) input as usual, setting the
// operation's headers, then this replaces the body and hands the signer
// its payload hash (Body.PayloadHash); signing, retries and response
// parsing stay the SDK's. falcocw writes the bodies of its data calls
// itself because the SDK's serialiser escapes every message through
// several growing buffers, which was most of the CPU spent per alert.
func WithBody(body *Body) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Serialize.Insert(middleware.SerializeMiddlewareFunc("falcocwBody",
			func(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
				req, ok := in.Request.(*smithyhttp.Request)
				if !ok {
					return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("unexpected transport type %T", in.Request)
				}
				if _, err := body.Seek(0, io.SeekStart); err != nil { // a call sent again starts from the top
					return middleware.SerializeOutput{}, middleware.Metadata{}, err
				}
				r, err := req.SetStream(body)
				if err != nil {
					return middleware.SerializeOutput{}, middleware.Metadata{}, err
				}
				in.Request = r
				hash, err := body.PayloadHash()
				if err != nil {
					return middleware.SerializeOutput{}, middleware.Metadata{}, err
				}
				return next.HandleSerialize(v4.SetPayloadHash(ctx, hash), in)
			}), "OperationSerializer", middleware.After)
	}
}

// CallWithBody makes one call with a request body written by write (about
// size bytes): call gets the option that hands the body to the SDK
// (append it to the client's APIOptions), and the body goes back to its
// pool once the call has returned, when nothing reads it any more.
func CallWithBody[O any](size int, write func([]byte) []byte, call func(withBody func(*middleware.Stack) error) (O, error)) (O, error) {
	body := NewBody(size)
	body.Append(write)
	defer body.Release()
	return call(WithBody(body))
}
