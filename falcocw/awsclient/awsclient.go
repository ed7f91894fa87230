// Package awsclient builds the AWS SDK clients one falcocw instance uses:
// region and credentials from the SDK's default chain (environment, shared
// config, ECS task role, IRSA web identity, EC2 instance metadata), an
// optional assumed role, and per-service endpoint overrides for VPC
// endpoints and tests.
package awsclient

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// AWS is what every service client of one instance is built from: the
// SDK configuration (region, credentials, falcocw's retryer) and the HTTP
// client for each endpoint. Each destination package builds its own client
// with Client.
type AWS struct {
	Config aws.Config
	// Region is the region in use; "" when neither the configuration nor
	// the SDK's chain gave one.
	Region     string
	httpClient func(endpoint string) aws.HTTPClient
	// stsEndpoint is STS's endpoint override ("" for AWS's own).
	stsEndpoint string
}

// STS is an STS client of the instance's credentials: GetCallerIdentity
// tells which account they belong to.
func (a *AWS) STS() *sts.Client { return Client(a, a.stsEndpoint, sts.NewFromConfig) }

// Client builds a service's client for the instance from the service
// package's NewFromConfig, at endpoint ("" for AWS's own). An endpoint
// override is set on the client's own options, after the SDK's
// resolution, so that it wins over AWS_ENDPOINT_URL_* and the shared
// config, as the property a user set should; the HTTP client that goes
// with it verifies the endpoint's certificate unless tls_skip_verify
// names it. Every service's Options has BaseEndpoint and HTTPClient; a
// client whose Options had not would fail at the first instance's start.
func Client[C any, O any](a *AWS, endpoint string, newFromConfig func(aws.Config, ...func(*O)) C) C {
	base, httpClient := a.Endpoint(endpoint)
	return newFromConfig(a.Config, func(o *O) {
		if base == nil {
			return
		}
		v := reflect.ValueOf(o).Elem()
		v.FieldByName("BaseEndpoint").Set(reflect.ValueOf(base))
		v.FieldByName("HTTPClient").Set(reflect.ValueOf(&httpClient).Elem())
	})
}

// Endpoint returns what a service client needs for an endpoint override:
// the base URL (nil for AWS's own) and the HTTP client, which verifies the
// certificate unless the endpoint is named in tls_skip_verify.
func (a *AWS) Endpoint(endpoint string) (base *string, client aws.HTTPClient) {
	if endpoint == "" {
		return nil, a.Config.HTTPClient
	}
	return aws.String(endpoint), a.httpClient(endpoint)
}

// Options are what the clients need to know: the delivery packages take
// their own options, not the plugin's configuration.
type Options struct {
	// Region, when empty, comes from the SDK's chain (AWS_REGION, the
	// shared config); Clients.Region is "" when none gave one.
	Region string
	// RoleARN, when set, is assumed (STS AssumeRole, with ExternalID)
	// on top of the default credentials.
	RoleARN, ExternalID string
	// STSEndpoint overrides STS's endpoint (for RoleARN).
	STSEndpoint string
	// TLSSkipVerify lists endpoints whose certificate is not verified.
	TLSSkipVerify []string
}

// New loads the AWS configuration. It does not call AWS: credentials are
// resolved at the first request, so a plugin starts even while the task
// role is still being provisioned.
func New(ctx context.Context, c Options) (*AWS, error) {
	opts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRetryer(func() aws.Retryer {
			// Throttling, 5xx, connection resets and timeouts are retried
			// with exponential backoff and full jitter until the flush
			// deadline (flush_timeout) ends them; no client-wide retry
			// quota, which would stop retries for every flush once AWS
			// had a bad minute.
			return startByRetryer{retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 1000
				o.MaxBackoff = 2 * time.Second
				o.Backoff = Backoff{Base: 50 * time.Millisecond, Max: 2 * time.Second}
				o.RateLimiter = ratelimit.None
				o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: RetryableCodes})
			})}
		}),
		awsconfig.WithHTTPClient(httpClient(false)),
	}
	if c.Region != "" {
		opts = append(opts, awsconfig.WithRegion(c.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	// client returns the HTTP client for a service endpoint: certificate
	// verification stays on unless the user named this endpoint in
	// tls_skip_verify.
	client := func(endpoint string) aws.HTTPClient {
		for _, e := range c.TLSSkipVerify {
			if e == endpoint {
				return httpClient(true)
			}
		}
		return cfg.HTTPClient
	}
	if cfg.Region == "" {
		return &AWS{}, nil // the caller says what to set
	}
	if c.RoleARN != "" {
		stsClient := sts.NewFromConfig(cfg, func(o *sts.Options) {
			if c.STSEndpoint != "" {
				o.BaseEndpoint = aws.String(c.STSEndpoint)
				o.HTTPClient = client(c.STSEndpoint)
			}
		})
		provider := stscreds.NewAssumeRoleProvider(stsClient, c.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "falcocw"
			if c.ExternalID != "" {
				o.ExternalID = aws.String(c.ExternalID)
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(provider)
	}
	return &AWS{Config: cfg, Region: cfg.Region, httpClient: client, stsEndpoint: c.STSEndpoint}, nil
}

// RetryableCodes are the error codes, beyond the SDK's standard throttle
// codes and 5xx statuses, by which AWS services say "back off and try
// again", whatever the HTTP status that carries them. Firehose, above all,
// throttles with ServiceUnavailableException ("Slow down.") in a 400
// answer, which the SDK's standard rules take for a client error: without
// this table a throttled flush would answer FLB_RETRY at once, and Fluent
// Bit's scheduler would hold the chunk back for seconds to minutes.
var RetryableCodes = map[string]struct{}{
	"ServiceUnavailableException":            {}, // Firehose, Kinesis, CloudWatch Logs
	"ServiceUnavailable":                     {}, // query-protocol services
	"InternalFailure":                        {}, // every service, 500
	"InternalServerError":                    {},
	"InternalErrorException":                 {},
	"ThrottlingException":                    {}, // CloudWatch Logs, EventBridge, Security Hub
	"Throttling":                             {}, // SNS (query protocol)
	"Throttled":                              {}, // SNS ThrottledException
	"KMSThrottling":                          {}, // SNS with an encrypted topic
	"KMSThrottlingException":                 {}, // Kinesis, Firehose with SSE
	"ProvisionedThroughputExceededException": {}, // Kinesis Data Streams
	"LimitExceededException":                 {}, // Kinesis, Security Hub: request rate
	"TooManyRequestsException":               {}, // Security Hub, EventBridge
	"OperationAbortedException":              {}, // CloudWatch Logs: a concurrent change to the group
}

// httpClient is the SDK's HTTP client with falcocw's timeouts; insecure
// turns off TLS certificate verification.
func httpClient(insecure bool) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		// An answer is waited for a minute: a request given up while AWS
		// still works on it, then sent again, may arrive twice.
		WithTimeout(90 * time.Second).
		WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = 16
			t.ResponseHeaderTimeout = 60 * time.Second
			if insecure {
				if t.TLSClientConfig == nil {
					t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
				}
				t.TLSClientConfig.InsecureSkipVerify = true
			}
		})
}

// Backoff is exponential backoff with full jitter: before retry n (from
// 1) it waits a random time up to min(Max, Base*2^n). The SDK's default
// starts near a second, too slow for a flush bounded by flush_timeout.
type Backoff struct {
	Base, Max time.Duration
}

// BackoffDelay implements the SDK's retry.BackoffDelayer.
func (b Backoff) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	d := b.Max
	if attempt < 30 && b.Base<<attempt < b.Max {
		d = b.Base << attempt
	}
	return time.Duration(rand.Int64N(int64(d) + 1)), nil
}

// resendBackoff spaces the resending of entries a batch call reported as
// failed (Firehose records, SNS entries), as the SDK spaces its retries.
var resendBackoff = Backoff{Base: 50 * time.Millisecond, Max: 2 * time.Second}

// PauseBeforeResend waits before attempt n (from 0) of resending failed
// entries; it returns ctx's error if ctx ends first.
func PauseBeforeResend(ctx context.Context, attempt int) error {
	d, _ := resendBackoff.BackoffDelay(attempt+1, nil)
	return Sleep(ctx, d)
}

// Sleep waits d, or until ctx ends (returning its error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// AssumeRole returns the instance's AWS with the credentials of another
// role, assumed (STS AssumeRole, with externalID when set) on top of the
// instance's own: a destination written to through a role of its own
// (Security Lake's custom source provider role) uses it. The region,
// retryer and endpoints stay.
func (a *AWS) AssumeRole(roleARN, externalID string) *AWS {
	c := *a
	provider := stscreds.NewAssumeRoleProvider(a.STS(), roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "falcocw"
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
	})
	c.Config = a.Config.Copy()
	c.Config.Credentials = aws.NewCredentialsCache(provider)
	return &c
}
