// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface ISettlement {
    function settle(bytes calldata moves) external;
}

/// @title Stand-in for Polymarket's CTF Exchange V2 (also placed at the NegRisk and V3 addresses).
/// @notice The CLOB matches orders off-chain; the operator then settles them here. Each fill emits
///         the production V2 `OrderFilled` event with the same signature and field meanings, so a
///         bot watching the chain cannot tell the difference. Orders and signatures are checked
///         off-chain by the CLOB; pUSD and the outcome tokens (ERC-1155 in the CTF) move here.
/// @dev No constructor: the simulator writes the runtime bytecode and the slots below into the
///      genesis state at the production addresses.
contract SimExchange {
    address public collateral; // slot 0
    mapping(address => bool) public isOperator; // slot 1
    address public conditionalTokens; // slot 2

    event OrderFilled(
        bytes32 indexed orderHash,
        address indexed maker,
        address indexed taker,
        uint8 side,
        uint256 tokenId,
        uint256 makerAmountFilled,
        uint256 takerAmountFilled,
        uint256 fee,
        bytes32 builder,
        bytes32 metadata
    );

    error NotOperator();
    error BadFills();

    uint256 private constant FILL_BYTES = 320;

    /// @param fills packed 320-byte records, one ABI word per field in the event's order:
    ///        orderHash, maker, taker, side, tokenId, makerAmountFilled, takerAmountFilled, fee,
    ///        builder, metadata. Emitted in the given order.
    /// @param moves the pUSD deltas of these fills, forwarded to the collateral token.
    /// @param tokenMoves the outcome-token deltas of these fills, forwarded to the CTF.
    function settle(bytes calldata fills, bytes calldata moves, bytes calldata tokenMoves)
        external
    {
        if (!isOperator[msg.sender]) revert NotOperator();
        if (fills.length % FILL_BYTES != 0) revert BadFills();
        bytes32 topic0 = OrderFilled.selector;
        // Hand-rolled so a block of hundreds of fills stays cheap in an interpreted EVM:
        // the seven unindexed words are copied once and logged with the three indexed ones.
        assembly ("memory-safe") {
            let buf := mload(0x40)
            let end := add(fills.offset, fills.length)
            for { let p := fills.offset } lt(p, end) { p := add(p, 320) } {
                calldatacopy(buf, add(p, 96), 224)
                log4(buf, 224, topic0, calldataload(p), calldataload(add(p, 32)),
                    calldataload(add(p, 64)))
            }
        }
        if (moves.length != 0) ISettlement(collateral).settle(moves);
        if (tokenMoves.length != 0) ISettlement(conditionalTokens).settle(tokenMoves);
    }
}
