# A custom aws-for-fluent-bit image carrying falcocw.
#
#   docker build -t falcocw-aws-for-fluent-bit .
#
# Build stage: Amazon Linux 2023, the base of aws-for-fluent-bit 3.x, so
# the .so needs no newer glibc (2.34) than the image it runs in.
ARG AWS_FOR_FLUENT_BIT_TAG=3.0.0
ARG GO_VERSION=1.26.8

FROM public.ecr.aws/amazonlinux/amazonlinux:2023 AS build
ARG GO_VERSION
RUN dnf install -y gcc tar gzip && dnf clean all
RUN curl -fsSL "https://go.dev/dl/go${GO_VERSION}.linux-$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/').tar.gz" \
      | tar -C /usr/local -xz
ENV PATH=/usr/local/go/bin:$PATH CGO_ENABLED=1
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY plugin/ plugin/
COPY falcocw/ falcocw/
RUN go build -buildmode=c-shared -trimpath -ldflags="-s -w" -o /out/falcocw.so ./plugin

# Final stage: AWS's image, plus our plugin loaded the way that image loads
# its own Go plugins: a -e flag on the fluent-bit command line.
FROM public.ecr.aws/aws-observability/aws-for-fluent-bit:${AWS_FOR_FLUENT_BIT_TAG}
COPY --from=build /out/falcocw.so /fluent-bit/falcocw.so
COPY conf/parsers.conf /fluent-bit/etc/falcocw-parsers.conf
CMD ["/bin/sh", "-c", "exec /fluent-bit/bin/fluent-bit -e /fluent-bit/firehose.so -e /fluent-bit/cloudwatch.so -e /fluent-bit/kinesis.so -e /fluent-bit/falcocw.so -c ${FLUENT_BIT_CONFIG_FILE:-/fluent-bit/etc/fluent-bit.conf}"]
