"""The reviews: from the raw dataset (or Keras's `imdb.npz`) to batches a model reads.

- `sources`: find a local copy (or download one) and read it as token ids (`load_reviews`);
- `aclimdb`: read the raw Large Movie Review Dataset; `text`: tokenize and encode like Keras;
  `cache`: keep the encoded reviews on disk so only the first run tokenizes;
- `reviews`: unpadded reviews and balanced subsets; `splits`: padded training, validation and
  test arrays (`load_splits`), made by the data source `data.source` names in the registry `SOURCES`;
- `own`: your texts (`data.source` directory, csv or jsonl), streamed; `own_tokens`: tokenized as they
  are read, and cached; `ragged`: their splits unpadded (one flat array of ids and offsets);
- `shuffled_reviews`: a large labeled CSV made from aclImdb's training reviews (scale measurements);
- `pipeline`: `tf.data` batches, with length bucketing;
- `vocabulary`: the encoding a run keeps in its folder, so raw text is encoded as its data was.
"""
