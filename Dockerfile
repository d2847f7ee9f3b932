# fortisim in a container: build on Debian 12, run on Debian 12 slim.
#   docker build -t fortisim .
#   docker run --rm -p 443:443 -v fortisim-data:/data fortisim
# The lab CA is generated into /data on first start; copy /data/ca.pem to your clients.
# The runtime image has the shared libraries the binary links (ldd build/fortisim) and the install:
# /usr/local/bin/fortisim finds /usr/local/share/fortisim/scenarios/default.json beside itself.
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN sh scripts/install-deps.sh \
 && cmake -S . -B /build -DFORTISIM_TESTS=OFF -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j "$(nproc)" \
 && cmake --install /build --prefix /usr/local

FROM debian:12-slim
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libssl3 ca-certificates libre2-9 libsqlite3-0 libldns3 \
    libqrencode4 libpng16-16 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/fortisim /usr/local/bin/fortisim
COPY --from=build /usr/local/share/fortisim /usr/local/share/fortisim
ENV FORTISIM_DATA=/data
VOLUME /data
EXPOSE 443
ENTRYPOINT ["fortisim"]
CMD ["serve", "--listen", "0.0.0.0:443", "--admin", "127.0.0.1:8080", "--scenario", "/usr/local/share/fortisim/scenarios/default.json"]
