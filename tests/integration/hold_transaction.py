"""A process that opens a transaction, writes one document in it and never commits: the test
kills it with SIGKILL, as an operator's `kill -9` would leave a service. Arguments: the MongoDB
URI, the database and the document id. Prints "written" once the write is in the transaction."""

from __future__ import annotations

import sys
import time

from pymongo import MongoClient


def main() -> None:
    uri, database, doc_id = sys.argv[1:4]
    client: MongoClient[dict[str, object]] = MongoClient(uri)
    session = client.start_session()
    session.start_transaction()
    client[database].docs.update_one({"_id": doc_id}, {"$set": {"by": "killed"}}, upsert=True, session=session)
    print("written", flush=True)
    time.sleep(600)  # until killed


if __name__ == "__main__":
    main()
