docker inspect nosuchthing 2>/dev/null
echo "rc=$?"
docker inspect -f '{{.Id}}' nosuchthing 2>/dev/null
echo "rc=$?"
