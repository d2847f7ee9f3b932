# fortisim in a container: its Debian package (scripts/package.sh) installed on Debian 12 slim, run
# as the non-root user fortisim.
#   podman build --format docker -t fortisim .  (or docker build; --build-arg RUN_TESTS=1 also runs every test)
#   podman run --rm -p 443:443 -v fortisim-data:/data fortisim
# (podman's default OCI format drops HEALTHCHECK: --format docker keeps it.)
# The package is built in the first stage from scripts/packages.txt's build (and, with
# RUN_TESTS=1, test) packages. With --build-arg FORTISIM_DEB=given it is taken instead from dist/
# in the build context, as scripts/package.sh left it (CI does this with the build it has tested).
# BASE and BASE_SLIM name the Debian 12 images; scripts/container-test.sh makes them with
# debootstrap where no registry answers. The lab CA is made in the /data volume on first start.
# README.md ("Installing") and docs/compose.yaml say more.
ARG BASE=debian:12
ARG BASE_SLIM=debian:12-slim
ARG FORTISIM_DEB=build

FROM ${BASE} AS deb-build
ARG RUN_TESTS=0
WORKDIR /src
# The list first: the layer of installed packages survives edits to the code.
COPY scripts/packages.txt scripts/install-deps.sh scripts/
RUN if [ "$RUN_TESTS" = 1 ]; then kinds="build test"; else kinds=build; fi \
 && sh scripts/install-deps.sh $kinds \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN if [ "$RUN_TESTS" = 1 ]; then deps="build test" tests=ON; else deps=build tests=OFF; fi \
 && FORTISIM_DEPS="$deps" FORTISIM_BUILD=/build \
    FORTISIM_CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Release -DFORTISIM_TESTS=$tests" sh scripts/package.sh /dist \
 && if [ "$RUN_TESTS" = 1 ]; then cd /build && ctest --output-on-failure --timeout 300 -j "$(nproc)"; fi

FROM ${BASE} AS deb-given
# dist* matches nothing when there is no dist/: packages.txt keeps the copy valid for a builder that
# runs every stage (Docker's classic builder; BuildKit and podman run only the stages used).
COPY scripts/packages.txt dist* /dist/

FROM deb-${FORTISIM_DEB} AS deb

FROM ${BASE_SLIM}
COPY scripts/packages.txt scripts/install-deps.sh /tmp/fortisim/scripts/
COPY --from=deb /dist/ /tmp/fortisim/
# The package brings its run packages as its dependencies; the image adds setcap ("image").
RUN apt-get update -qq \
 && sh /tmp/fortisim/scripts/install-deps.sh image \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /tmp/fortisim/fortisim_*_*.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/fortisim \
 && useradd --system --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin fortisim \
 && mkdir -p /data \
 && chown fortisim:fortisim /data
COPY docker/entrypoint.sh /usr/local/bin/fortisim-entrypoint
COPY docker/control.sh /usr/local/bin/fortisim-control
# Ports 443 and 53 without root: the binary carries cap_net_bind_service as a file capability
# (+ep). A container must keep that capability in its bounding set: started with --cap-drop ALL
# (and no --cap-add NET_BIND_SERVICE) the kernel refuses to run the binary at all ("Operation not
# permitted", exit 126), as it refuses any +ep binary whose capability it cannot grant. With
# no-new-privileges it runs, but cannot bind ports below 1024: give --listen and --dns higher ports.
RUN setcap cap_net_bind_service=+ep /usr/bin/fortisim \
 && fortisim --version
ENV FORTISIM_DATA=/data
VOLUME /data
USER fortisim
EXPOSE 443/tcp 53/udp 53/tcp 8080/tcp
# Healthy once fortisim has written its ready line and its control API answers GET /health.
HEALTHCHECK --interval=15s --timeout=12s --start-period=10s --retries=3 CMD ["fortisim-control", "--health"]
ENTRYPOINT ["fortisim-entrypoint"]
