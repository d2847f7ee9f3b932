# fortisim in a container: build on Debian 12, run on Debian 12 slim.
#   docker build -t fortisim .
#   docker run --rm -p 443:443 -v fortisim-data:/data fortisim
# The lab CA is generated into /data on first start; copy /data/ca.pem to your clients.
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN sh scripts/install-deps.sh \
 && cmake -S . -B /build -DFORTISIM_TESTS=OFF -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j "$(nproc)"

FROM debian:12-slim
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/fortisim /usr/local/bin/fortisim
COPY scenarios /usr/share/fortisim/scenarios
ENV FORTISIM_DATA=/data
VOLUME /data
EXPOSE 443
ENTRYPOINT ["fortisim"]
CMD ["serve", "--listen", "0.0.0.0:443", "--admin", "127.0.0.1:8080", "--scenario", "/usr/share/fortisim/scenarios/default.json"]
