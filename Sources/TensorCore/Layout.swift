extension NDArray {
    /// Axes reordered: result axis i is input axis `permutation[i]`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func permuted(_ permutation: [Int]) -> NDArray {
        require(permutation.sorted() == Array(0..<rank),
                     "permutation \(permutation) is not a permutation of the axes of shape \(shape)")
        let inStrides = Shape.strides(shape)
        return gathered(shape: permutation.map { shape[$0] }, sourceStrides: permutation.map { inStrides[$0] })
    }

    /// A contiguous array of `shape` whose element at index i reads this array
    /// at offset Σ iₖ·sourceStrides[k] (a permutation, a broadcast, or both).
    @inline(__always)
    func gathered(shape outShape: [Int], sourceStrides si: [Int]) -> NDArray {
        let n = outShape.last ?? 1
        let step = si.last ?? 0
        var out = [S](overwrittenCount: Shape.count(outShape))
        data.withUnsafeBufferPointer { a in
            out.withUnsafeMutableBufferPointer { o in
                forEachRow(shape: outShape, strides: [si, Shape.strides(outShape)]) { off in
                    var p = off[0]
                    let q = off[1]
                    for j in 0..<n { o[q + j] = a[p]; p += step }
                }
            }
        }
        return NDArray(shape: outShape, data: out)
    }

    /// Arrays joined along `axis`; all other dimensions must agree.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func concatenate(_ parts: [NDArray], axis: Int) -> NDArray {
        require(!parts.isEmpty, "concatenate needs at least one array")
        let rank = parts[0].rank
        let ax = Shape.axis(axis, rank: rank)
        for p in parts {
            require(p.rank == rank && (0..<rank).allSatisfy { $0 == ax || p.shape[$0] == parts[0].shape[$0] },
                         "cannot concatenate shapes \(parts.map(\.shape)) along axis \(ax)")
        }
        var outShape = parts[0].shape
        outShape[ax] = parts.reduce(0) { $0 + $1.shape[ax] }
        let outer = Shape.count(Array(outShape[..<ax]))
        let inner = Shape.count(Array(outShape[(ax + 1)...]))
        let outRow = outShape[ax] * inner
        var out = [S](overwrittenCount: Shape.count(outShape))
        out.withUnsafeMutableBufferPointer { o in
            var start = 0
            for p in parts {
                let row = p.shape[ax] * inner
                p.data.withUnsafeBufferPointer { src in
                    for i in 0..<outer {
                        for j in 0..<row { o[i * outRow + start + j] = src[i * row + j] }
                    }
                }
                start += row
            }
        }
        return NDArray(shape: outShape, data: out)
    }

    /// Pieces of sizes `sizes` (summing to the axis length) along `axis`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func split(axis: Int, sizes: [Int]) -> [NDArray] {
        let ax = Shape.axis(axis, rank: rank)
        require(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[ax],
                     "split sizes \(sizes) do not add up to axis \(ax) of shape \(shape)")
        let outer = Shape.count(Array(shape[..<ax]))
        let inner = Shape.count(Array(shape[(ax + 1)...]))
        let inRow = shape[ax] * inner
        var start = 0
        return data.withUnsafeBufferPointer { src in
            sizes.map { size in
                var pieceShape = shape
                pieceShape[ax] = size
                let row = size * inner
                var out = [S](overwrittenCount: outer * row)
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<outer {
                        for j in 0..<row { o[i * row + j] = src[i * inRow + start + j] }
                    }
                }
                start += row
                return NDArray(shape: pieceShape, data: out)
            }
        }
    }

    /// Elements `range` of `axis`.
    public func slice(axis: Int, _ range: Range<Int>) -> NDArray {
        let ax = Shape.axis(axis, rank: rank)
        require(range.lowerBound >= 0 && range.upperBound <= shape[ax],
                     "slice \(range) out of bounds for axis \(ax) of shape \(shape)")
        return split(axis: ax, sizes: [range.lowerBound, range.count, shape[ax] - range.upperBound])[1]
    }

    /// Zero padding: `padding[i] = (before, after)` for axis i.
    public func padded(_ padding: [(before: Int, after: Int)]) -> NDArray {
        require(padding.count == rank, "padding \(padding) does not match rank of shape \(shape)")
        var result = self
        for (axis, p) in padding.enumerated() where p.before > 0 || p.after > 0 {
            var zeroShape = result.shape
            zeroShape[axis] = p.before
            var parts = [NDArray(zeros: zeroShape), result]
            zeroShape[axis] = p.after
            parts.append(NDArray(zeros: zeroShape))
            result = .concatenate(parts, axis: axis)
        }
        return result
    }

    /// Reflection padding of the last two axes by `amount` (the edge row is not
    /// repeated: [a b c] padded by 1 is [b a b c b]).
    public func reflectionPadded(_ amount: Int) -> NDArray {
        require(amount >= 0 && rank >= 2, "reflection padding \(amount) of shape \(shape)")
        if amount == 0 { return self }
        var result = self
        for axis in [rank - 2, rank - 1] {
            let length = result.shape[axis]
            require(amount < length, "reflection padding \(amount) needs axis length > \(amount), shape \(shape)")
            let before = (1...amount).reversed().map { result.slice(axis: axis, $0..<$0 + 1) }
            let after = (1...amount).map { result.slice(axis: axis, length - 1 - $0..<length - $0) }
            result = .concatenate(before + [result] + after, axis: axis)
        }
        return result
    }
}
