# A custom aws-for-fluent-bit image carrying falcocw.
#
#   docker build -t falcocw-aws-for-fluent-bit .
#   docker build --build-arg AWS_FOR_FLUENT_BIT_TAG=3.4.0 -t falcocw-aws-for-fluent-bit .
#
# The default base is the aws-for-fluent-bit 3.4 line, which ships Fluent
# Bit 5.0 (5.0.9 is what the real-host tests run, beside 4.1.2 and 5.1.1).
# aws-for-fluent-bit 3.x runs on Amazon Linux 2023 (glibc 2.34). The .so is
# built on that same base, so it needs no newer glibc than the image has.
ARG AWS_FOR_FLUENT_BIT_TAG=3.4.0
ARG AMAZONLINUX_TAG=2023
ARG GO_VERSION=1.26.8

FROM public.ecr.aws/amazonlinux/amazonlinux:${AMAZONLINUX_TAG} AS build
ARG GO_VERSION
RUN dnf install -y gcc tar gzip && dnf clean all
RUN arch=$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/') \
 && curl -fsSL "https://go.dev/dl/go${GO_VERSION}.linux-${arch}.tar.gz" | tar -C /usr/local -xz
ENV PATH=/usr/local/go/bin:$PATH CGO_ENABLED=1
WORKDIR /src
COPY go.mod go.sum ./
COPY plugin/ plugin/
COPY falcocw/ falcocw/
RUN go build -buildmode=c-shared -trimpath -ldflags="-s -w" -o /out/falcocw.so ./plugin

# The runtime: AWS's image, with falcocw loaded the way that image loads its
# own Go plugins (a -e flag on the fluent-bit command line), so a
# FireLens-generated configuration can name "falcocw".
FROM public.ecr.aws/aws-observability/aws-for-fluent-bit:${AWS_FOR_FLUENT_BIT_TAG}
COPY --from=build /out/falcocw.so /fluent-bit/falcocw.so
COPY conf/parsers.conf /fluent-bit/etc/falcocw-parsers.conf
# Included by FireLens (config-file-value): joins the pieces of lines over 16 KiB.
COPY conf/firelens.conf /fluent-bit/etc/falcocw-firelens.conf
COPY docker/entrypoint.sh /falcocw-entrypoint.sh
CMD ["/falcocw-entrypoint.sh"]
