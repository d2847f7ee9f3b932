# fortisim in a container: built on Debian 12, run on Debian 12 slim as the non-root user fortisim.
#   docker build -t fortisim .                           (--build-arg RUN_TESTS=1 runs every test too)
#   docker run --rm -p 443:443 -v fortisim-data:/data fortisim
# Packages come from scripts/packages.txt, the quick start's list: the build stage installs its
# build (and, with RUN_TESTS=1, test) packages, the runtime stage its run packages. The lab CA is
# made in the /data volume on first start. README.md ("Docker") and docs/compose.yaml say more.

FROM debian:12 AS build
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
    FORTISIM_CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Release -DFORTISIM_TESTS=$tests" sh scripts/build.sh \
 && if [ "$RUN_TESTS" = 1 ]; then cd /build && ctest --output-on-failure --timeout 300 -j "$(nproc)"; fi

FROM debian:12-slim
COPY scripts/packages.txt scripts/install-deps.sh /usr/share/fortisim/scripts/
RUN sh /usr/share/fortisim/scripts/install-deps.sh run \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin fortisim \
 && mkdir -p /data \
 && chown fortisim:fortisim /data
COPY --from=build /build/fortisim /usr/local/bin/fortisim
COPY scenarios /usr/share/fortisim/scenarios
COPY docker/entrypoint.sh /usr/local/bin/fortisim-entrypoint
COPY docker/control.sh /usr/local/bin/fortisim-control
# Ports 443 and 53 without root: the binary carries cap_net_bind_service as a file capability
# (+ep). A container must keep that capability in its bounding set: started with --cap-drop ALL
# (and no --cap-add NET_BIND_SERVICE) the kernel refuses to run the binary at all ("Operation not
# permitted", exit 126), as it refuses any +ep binary whose capability it cannot grant. With
# no-new-privileges it runs, but cannot bind ports below 1024: give --listen and --dns higher ports.
RUN setcap cap_net_bind_service=+ep /usr/local/bin/fortisim \
 && fortisim --version
ENV FORTISIM_DATA=/data
VOLUME /data
USER fortisim
EXPOSE 443/tcp 53/udp 53/tcp 8080/tcp
# Healthy once fortisim has written its ready line and its control API answers GET /health.
HEALTHCHECK --interval=15s --timeout=12s --start-period=10s --retries=3 CMD ["fortisim-control", "--health"]
ENTRYPOINT ["fortisim-entrypoint"]
