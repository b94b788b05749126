# Understudy as a container image: nothing but the statically linked `understudy` binary, which
# carries its specs and default configuration. Build it with scripts/image, which compiles the
# static binary and passes a context holding only that file.
#
#   docker run --rm -p 4141:4141 understudy:dev
#
# Inside the container the fake listens on 0.0.0.0:4141 (so a mapped port reaches it); the admin
# API answers only loopback callers, and remote ones that send the token given with
# UNDERSTUDY_ADMIN_TOKEN (docker run -e UNDERSTUDY_ADMIN_TOKEN=…). GET /__understudy/health is
# open to every caller, for orchestrators' probes.
FROM scratch
COPY understudy /understudy
# nobody:nogroup: the image needs no privileges and owns no files.
USER 65534:65534
ENV UNDERSTUDY_BIND=0.0.0.0 \
    UNDERSTUDY_PORT=4141
EXPOSE 4141
HEALTHCHECK --interval=10s --timeout=3s --start-period=1s --retries=3 \
    CMD ["/understudy", "health"]
ENTRYPOINT ["/understudy"]
CMD ["serve"]
