# COPY --from with globs, ADD of several URLs (a server on 127.0.0.1) with a local file: the
# files, modes and contents the image gets.
export DOCKER_BUILDKIT=0
mkdir www ctx
printf 'one\n' > www/one.txt && printf 'two\n' > www/two.txt
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory www >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/one.txt')" 2>/dev/null && break; sleep 0.1; done
cd ctx
printf 'local\n' > local.txt
cat > Dockerfile <<DF
FROM busybox AS s
RUN mkdir -p /out/sub && echo a > /out/a.txt && echo b > /out/b.txt && echo c > /out/c.log && echo d > /out/sub/d.txt
FROM busybox
COPY --from=s /out/*.txt /dst/
COPY --from=s /out/su?/*.txt /dst2/
ADD http://127.0.0.1:$port/one.txt http://127.0.0.1:$port/two.txt local.txt /dl/
DF
docker build -q --network none -t compat-src . >/dev/null
kill $server
docker run --rm compat-src sh -c 'ls /dst /dst2; cat /dst/*.txt /dl/*; cd /dl && stat -c "%n %a %u" *'
docker rmi compat-src >/dev/null
docker image prune -f >/dev/null
